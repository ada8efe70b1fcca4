import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import alawmulaw from 'alawmulaw';
import { FakeTwilioCaller, toneSamples } from '../../fakes/twilio-caller.js';
import { silentLogger } from '../../../src/server/logger.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import type { TransportLogger } from '../../../src/transports/twilio/adapter.js';
import type { ErrorCode } from '../../../src/errors.js';
import { rig, ulaw, type Recorder, type Rig } from './helpers.js';

const rigs: Rig[] = [];
after(() => rigs.forEach((r) => r.close()));

async function connect(
  options: Parameters<Rig['next']>[0] = {},
  callerOptions: Parameters<typeof FakeTwilioCaller.connect>[1] = {},
): Promise<Awaited<ReturnType<Rig['next']>> & { caller: FakeTwilioCaller }> {
  const r = await rig();
  rigs.push(r);
  const server = r.next(options);
  const caller = await FakeTwilioCaller.connect(r.url, { sendSilence: false, ...callerOptions });
  return { ...(await server), caller };
}

const started = (recorder: Recorder): Promise<void> => recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');

/** What the caller received, in order: `m<bytes>` for a media message, the name for a mark. */
function wire(caller: FakeTwilioCaller): string[] {
  return caller.received.toArray().flatMap((e) => (e.event === 'media' ? [`m${e.bytes ?? 0}`] : e.event === 'mark' ? [e.name ?? ''] : []));
}

/** Mark names the caller received, with the media bytes received since the previous mark. */
function markSpacing(caller: FakeTwilioCaller): Array<{ name: string; bytesBefore: number }> {
  const out: Array<{ name: string; bytesBefore: number }> = [];
  let bytes = 0;
  for (const entry of caller.received.toArray()) {
    if (entry.event === 'media') bytes += entry.bytes ?? 0;
    if (entry.event === 'mark') {
      out.push({ name: entry.name ?? '', bytesBefore: bytes });
      bytes = 0;
    }
  }
  return out;
}

void describe('TwilioTransport: inbound', () => {
  void test('start becomes a CallStart in pcmu/8000 with the call parameters', async () => {
    const { recorder, caller, transport } = await connect({}, { customParameters: { From: '+15551234567', lang: 'en' } });
    await started(recorder);
    const [start] = recorder.of('start');
    assert.deepEqual(start?.info, {
      callId: caller.callSid,
      streamId: caller.streamSid,
      parameters: { From: '+15551234567', lang: 'en' },
      format: { encoding: 'pcmu', sampleRate: 8000 },
    });
    assert.equal(transport.streamSid, caller.streamSid);
    assert.equal(transport.kind, 'twilio');
    await caller.stop();
  });

  void test('caller audio arrives as 20 ms frames, in a reused buffer', async () => {
    const { recorder, caller } = await connect();
    await started(recorder);
    const tone = toneSamples(60);
    await caller.sendSpeech(tone);
    await recorder.waitFor(() => recorder.of('audio').length === 3);
    const frames = recorder.of('audio');
    assert.deepEqual(frames.map((f) => f.durationMs), [20, 20, 20]);
    assert.deepEqual(Buffer.concat(frames.map((f) => f.bytes)), Buffer.from(alawmulaw.mulaw.encode(tone)));
    assert.deepEqual(frames.slice(1).map((f) => f.sameBuffer), [true, true]);
    await caller.stop();
  });

  void test('frames in Twilio layout that are not this stream\'s caller audio take the full path: other track ignored, bad sid or odd text coded, non-ASCII as before', async () => {
    const { recorder, caller } = await connect();
    await started(recorder);
    const payload = Buffer.from(ulaw(20, 0x11)).toString('base64');
    const frame = (track: string, sid: string, body = payload): string =>
      `{"event":"media","sequenceNumber":"5","media":{"track":"${track}","chunk":"4","timestamp":"60","payload":"${body}"},"streamSid":"${sid}"}`;
    caller.sendRaw(frame('outbound', caller.streamSid)); // another track: ignored, not bad input
    caller.sendRaw(frame('inbound', `${caller.streamSid}x`)); // another stream
    caller.sendRaw(frame('inbound', `${caller.streamSid.slice(0, -1)}é`)); // not a sid
    caller.sendRaw(frame('inbound', caller.streamSid, `${payload.slice(0, -1)}é`)); // not base64
    caller.sendRaw(frame('inbound', caller.streamSid, Buffer.from(ulaw(20, 0x22)).toString('base64')));
    await recorder.waitFor(() => recorder.of('audio').length === 1);
    assert.deepEqual(recorder.of('badInput').map((b) => b.code), ['VW_ERR_WRONG_STREAM', 'VW_ERR_BAD_FIELD', 'VW_ERR_BAD_BASE64']);
    assert.deepEqual(Array.from(recorder.of('audio')[0]?.bytes ?? []), Array.from(ulaw(20, 0x22)));
    await caller.stop();
  });

  void test('dtmf is delivered; stop ends the call once with closed(1000)', async () => {
    const { recorder, caller } = await connect();
    await started(recorder);
    caller.sendDtmf('#');
    await recorder.waitFor(() => recorder.of('dtmf').length === 1);
    assert.equal(recorder.of('dtmf')[0]?.digit, '#');
    await caller.stop();
    await recorder.waitFor(() => recorder.of('closed').length === 1);
    assert.deepEqual(recorder.of('closed'), [{ type: 'closed', code: 1000, reason: 'twilio stop', error: undefined }]);
  });

  void test('every kind of bad input gets its code and the connection lives on', async () => {
    const { recorder, caller, transport } = await connect({}, { autoStart: false });
    caller.sendConnected();
    caller.sendMediaBytes(ulaw(20));
    await recorder.waitFor(() => recorder.of('badInput').length === 1);
    caller.sendStart();
    await started(recorder);
    const expected: ErrorCode[] = ['VW_ERR_MEDIA_BEFORE_START'];
    const bad = (code: ErrorCode, send: () => void): void => {
      expected.push(code);
      send();
    };
    bad('VW_ERR_BAD_JSON', () => caller.sendRaw('{"event":"media"'));
    bad('VW_ERR_UNKNOWN_EVENT', () => caller.sendJson({ event: 'transcript', streamSid: caller.streamSid, sequenceNumber: '9' }));
    bad('VW_ERR_BAD_FIELD', () => caller.sendMediaBytes(ulaw(20), { sequenceNumber: 9 }));
    bad('VW_ERR_BAD_FIELD', () => caller.sendMediaBytes(ulaw(20), { media: { track: 'inbound', chunk: 1, timestamp: '0', payload: '/w==' } }));
    bad('VW_ERR_BAD_BASE64', () => caller.sendMediaBytes(ulaw(20), { media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '*&^%' } }));
    bad('VW_ERR_BAD_PAYLOAD_SIZE', () => caller.sendMediaBytes(new Uint8Array(0)));
    bad('VW_ERR_BAD_PAYLOAD_SIZE', () => caller.sendMediaBytes(new Uint8Array(8001)));
    bad('VW_ERR_BINARY_FRAME', () => caller.sendBinary(ulaw(20)));
    bad('VW_ERR_WRONG_STREAM', () => caller.sendMediaBytes(ulaw(20), { streamSid: 'MZ0000' }));
    bad('VW_ERR_MESSAGE_TOO_LARGE', () => caller.sendRaw(`{"event":"media","x":"${'a'.repeat(70_000)}"}`));
    bad('VW_ERR_BAD_FIELD', () => caller.sendJson({ event: 'dtmf', streamSid: caller.streamSid, sequenceNumber: '3', dtmf: { track: 'inbound_track', digit: 'Z' } }));
    caller.sendMediaBytes(ulaw(20, 0x42));
    await recorder.waitFor(() => recorder.of('audio').length === 1);
    assert.deepEqual(recorder.of('badInput').map((b) => b.code), expected);
    assert.equal(recorder.of('audio')[0]?.bytes[0], 0x42);
    assert.equal(recorder.of('closed').length, 0);
    assert.equal(caller.isOpen, true);
    assert.equal(transport.stats().badInputs, expected.length);
    await caller.stop();
  });

  void test('past maxBadInputs the connection closes with 4003', async () => {
    const { recorder, caller } = await connect({ maxBadInputs: 3 });
    await started(recorder);
    for (let i = 0; i < 4; i++) caller.sendRaw('nope');
    const { code } = await caller.waitForClose(5000);
    assert.equal(code, 4003);
    assert.equal(recorder.of('badInput').length, 3);
    assert.deepEqual(recorder.of('closed').map((c) => [c.code, c.error]), [[4003, 'VW_ERR_TOO_MANY_BAD_INPUTS']]);
  });

  void test('a second start closes with 4004', async () => {
    const { recorder, caller } = await connect();
    await started(recorder);
    caller.sendJson({
      event: 'start',
      sequenceNumber: '99',
      streamSid: caller.streamSid,
      start: { streamSid: caller.streamSid, accountSid: caller.accountSid, callSid: caller.callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} },
    });
    const { code } = await caller.waitForClose(5000);
    assert.equal(code, 4004);
    assert.deepEqual(recorder.of('closed').map((c) => [c.code, c.error]), [[4004, 'VW_ERR_DUPLICATE_START']]);
  });

  void test('a stream that sends no start within startTimeoutMs closes with 4020 VW_ERR_START_TIMEOUT', async () => {
    const { recorder, caller } = await connect({ startTimeoutMs: 150 }, { autoStart: false });
    caller.sendConnected(); // `connected` is not `start`
    const { code } = await caller.waitForClose(5000);
    assert.equal(code, 4020);
    assert.deepEqual(recorder.of('closed').map((c) => [c.code, c.error]), [[4020, 'VW_ERR_START_TIMEOUT']]);
  });

  void test('start in time stops the start timer: the stream stays open past it', async () => {
    const { recorder, caller, transport } = await connect({ startTimeoutMs: 150 });
    await started(recorder);
    // Past the timeout, the stream still carries audio both ways.
    await caller.waitUntil(() => caller.framesSent >= 20, 5000, '400 ms of streaming');
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(160).fill(0xff), durationMs: 20 });
    await caller.waitUntil(() => caller.received.total > 0, 5000, 'audio from the gateway');
    assert.equal(caller.isOpen, true);
    assert.deepEqual(recorder.of('closed'), []);
    await caller.stop();
  });

  void test('events that arrive before attach are delivered, in order, once attached', async () => {
    const { recorder, caller, transport } = await connect({ attach: false });
    await caller.sendSpeech(toneSamples(40));
    assert.equal(recorder.log.length, 0);
    transport.attach(recorder.events);
    await recorder.waitFor(() => recorder.of('audio').length === 2);
    assert.deepEqual(recorder.log.map((r) => r.type), ['start', 'audio', 'audio']);
    await caller.stop();
  });
});

void describe('TwilioTransport: outbound audio and marks', () => {
  void test('one long chunk is one media message, never split by a mark; the mark follows at its end', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(1000), durationMs: 1000 });
    await caller.waitUntil(() => caller.received.total === 2, 5000);
    assert.deepEqual(wire(caller), ['m8000', 'vw:1:0:1000']);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  void test('a mark follows the message during which 200 ms accumulated since the last one, at its end, or one that another like it would take past 250 ms', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    for (const ms of [150, 150, 150, 100, 200]) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(ms), durationMs: ms });
    await caller.waitUntil(() => caller.received.total === 9, 5000);
    // 150 ms messages: each marked (two would be 300 ms between echoes); 100 ms: 200 not reached, 100 more would not pass 250.
    assert.deepEqual(wire(caller), ['m1200', 'vw:0:0:150', 'm1200', 'vw:0:1:300', 'm1200', 'vw:0:2:450', 'm800', 'm1600', 'vw:0:3:750']);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  void test('20 ms chunks get a mark after every 10th; markEveryMs is an option', async () => {
    const { recorder, caller, transport } = await connect({ markEveryMs: 100 });
    await started(recorder);
    for (let i = 0; i < 30; i++) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(20), durationMs: 20 });
    await caller.waitUntil(() => caller.received.toArray().filter((e) => e.event === 'mark').length === 6, 5000);
    const marks = markSpacing(caller);
    assert.ok(marks.every((m) => m.bytesBefore === 800));
    assert.deepEqual(marks.map((m) => parseMarkName(m.name)?.positionMs), [100, 200, 300, 400, 500, 600]);
    await caller.stop();
  });

  void test('played() reports each mark echo; sentencePlayed follows its sentence, in order', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    for (const sentenceId of [0, 1, 2]) {
      transport.sendAudio({ epoch: 1, sentenceId, bytes: ulaw(150), durationMs: 150 });
      transport.endSentence(1, sentenceId);
    }
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 3, 5000);
    const tail = recorder.log.filter((r) => r.type === 'played' || r.type === 'sentencePlayed').map((r) => (r.type === 'played' ? `p${r.ms}` : `s${r.sentenceId}`));
    // A sentence mark restarts the 200 ms count, so no periodic mark falls inside these 150 ms sentences.
    assert.deepEqual(tail, ['p150', 's0', 'p300', 's1', 'p450', 's2']);
    // Every confirmation is an echo the caller sent after playing that much.
    const playedEchoes = caller.echoesBy('played').map((e) => [parseMarkName(e.name)?.positionMs, e.playedMs]);
    for (const [position, playedMs] of playedEchoes) assert.ok((position ?? Infinity) <= (playedMs ?? 0));
    await caller.stop();
  });

  void test('echoes flushed by clear never count as played', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    for (let i = 0; i < 10; i++) transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
    transport.endSentence(1, 0);
    await recorder.waitFor(() => recorder.of('played').length >= 2, 5000);
    transport.clear(2);
    await caller.waitUntil(() => caller.echoes.total === 11, 5000, 'all echoes');
    assert.ok(caller.playedMs < 2000);
    const flushed = caller.echoesBy('clear').length;
    assert.ok(flushed >= 5, `${flushed} echoes flushed`);
    // The echo of a mark sent now arrives after the flushed ones: once it is in, they all are.
    transport.endSentence(2, 7);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'the post-clear sentence');
    // An echo of real playback can cross the clear on the wire; it is then discarded too (conservative).
    assert.ok(transport.stats().echoesFlushed >= flushed);
    const key = (name: string): string => `${parseMarkName(name)?.epoch}:${parseMarkName(name)?.positionMs}`;
    const reallyPlayed = new Set(caller.echoesBy('played').map((e) => key(e.name)));
    const flushedKeys = new Set(caller.echoesBy('clear').map((e) => key(e.name)));
    for (const p of recorder.of('played')) {
      assert.ok(reallyPlayed.has(`${p.epoch}:${p.ms}`), `played(${p.epoch}, ${p.ms}) was not played`);
      assert.ok(!flushedKeys.has(`${p.epoch}:${p.ms}`), `played(${p.epoch}, ${p.ms}) came from a flushed echo`);
    }
    assert.deepEqual(recorder.of('played').at(-1), { type: 'played', epoch: 2, ms: 0 });
    assert.deepEqual(recorder.of('sentencePlayed').map((p) => [p.epoch, p.sentenceId]), [[2, 7]]);
    assert.equal(caller.clears.length, 1);
    await caller.stop();
  });

  void test('after clear(newEpoch) positions restart and stale-epoch echoes are ignored', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(600), durationMs: 600 });
    transport.clear(2);
    transport.sendAudio({ epoch: 1, sentenceId: 1, bytes: ulaw(200), durationMs: 200 });
    transport.sendAudio({ epoch: 2, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
    transport.sendAudio({ epoch: 2, sentenceId: 0, bytes: ulaw(100), durationMs: 100 });
    transport.endSentence(2, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000);
    // [2, 0]: the echo of the mark sent right behind the clear, the caller's confirmation of silence.
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [
      [2, 0],
      [2, 200],
      [2, 300],
    ]);
    assert.deepEqual(recorder.of('sentencePlayed').map((s) => [s.epoch, s.sentenceId]), [[2, 0]]);
    assert.equal(transport.stats().staleSends, 1);
    await caller.stop();
  });

  void test('a clear that keeps the epoch still discards the echoes it flushed', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.sendAudio({ epoch: 3, sentenceId: 0, bytes: ulaw(600), durationMs: 600 });
    transport.clear(3);
    transport.sendAudio({ epoch: 3, sentenceId: 1, bytes: ulaw(100), durationMs: 100 });
    transport.endSentence(3, 1);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [
      [3, 0], // the mark behind the clear
      [3, 100],
    ]);
    await caller.stop();
  });

  void test('a new epoch without clear closes the old one with a mark so its tail is confirmed', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(50), durationMs: 50 });
    transport.sendAudio({ epoch: 2, sentenceId: 0, bytes: ulaw(100), durationMs: 100 });
    transport.endSentence(2, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [
      [1, 200],
      [1, 250],
      [2, 100],
    ]);
    await caller.stop();
  });

  void test('clear is sent even when nothing is queued', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.clear(1);
    await caller.waitUntil(() => caller.clears.length === 1, 5000);
    assert.equal(transport.stats().clearsSent, 1);
    await caller.stop();
  });

  void test('echoes of marks we never sent are logged and ignored', async () => {
    const warnings: string[] = [];
    const logger: TransportLogger = { debug() {}, info() {}, warn: (_o, msg) => warnings.push(msg ?? ''), error() {} };
    const { recorder, caller, transport } = await connect({ logger });
    await started(recorder);
    caller.sendMarkEcho('someone else');
    caller.sendMarkEcho('vw:0:999:200');
    // Our own mark, echoed at once (nothing buffered), arrives after the forged ones.
    transport.endSentence(0, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000);
    assert.equal(transport.stats().echoesUnknown, 2);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [[0, 0]]);
    assert.equal(recorder.of('badInput').length, 0);
    assert.equal(warnings.filter((w) => w.includes('did not send')).length, 2);
    await caller.stop();
  });

  void test('bufferedAmount() is the socket bufferedAmount, and grows when the caller stops reading', async () => {
    const { recorder, caller, transport, ws } = await connect({ logger: silentLogger() }, { readPaused: true });
    await started(recorder);
    assert.equal(transport.bufferedAmount(), 0);
    let epochMs = 0;
    while (transport.bufferedAmount() === 0 && epochMs < 4_000_000) {
      transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(1000), durationMs: 1000 });
      epochMs += 1000;
      if (epochMs % 50_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(transport.bufferedAmount() > 0);
    assert.equal(transport.bufferedAmount(), ws.bufferedAmount);
    caller.terminate();
  });

  void test('nothing throws after the socket closed; sends are dropped and counted', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    caller.terminate();
    await recorder.waitFor(() => recorder.of('closed').length === 1, 5000);
    assert.equal(recorder.of('closed')[0]?.error, 'VW_ERR_CLOSED');
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(100), durationMs: 100 });
    transport.endSentence(0, 0);
    transport.clear(1);
    transport.close(1000, 'bye');
    transport.close(1000, 'bye');
    assert.equal(transport.stats().sendsDropped, 3);
    assert.equal(recorder.of('closed').length, 1);
  });

  void test('close() closes the socket with the code and raises closed once', async () => {
    const { recorder, caller, transport } = await connect();
    await started(recorder);
    transport.close(4010, 'model went away');
    const { code, reason } = await caller.waitForClose(5000);
    assert.deepEqual([code, reason], [4010, 'model went away']);
    assert.deepEqual(recorder.of('closed').map((c) => [c.code, c.reason, c.error]), [[4010, 'model went away', undefined]]);
  });

  void test('audio before start is dropped, not sent without a streamSid', async () => {
    const { recorder, caller, transport } = await connect({}, { autoStart: false });
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(100), durationMs: 100 });
    caller.sendStart();
    await started(recorder);
    assert.equal(transport.stats().sendsDropped, 1);
    assert.equal(transport.stats().mediaSent, 0);
    await caller.stop();
  });
});
