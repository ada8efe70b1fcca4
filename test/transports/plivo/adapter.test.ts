/**
 * PlivoTransport against the fake Plivo caller over real sockets: start and formats, inbound audio,
 * checkpoints from playedStream (only what played), clearAudio, epochs, and malformed input that
 * leaves the call alive.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import { PlivoTransport, parseExtraHeaders, type PlivoTransportOptions } from '../../../src/transports/plivo/adapter.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import { Recorder } from '../twilio/helpers.js';
import { FakePlivoCaller, type FakePlivoCallerOptions } from '../../fakes/plivo-caller.js';
import { toneAt } from '../../fakes/paced-caller.js';

const servers: WebSocketServer[] = [];
after(() => {
  for (const wss of servers) {
    for (const client of wss.clients) client.terminate();
    wss.close();
  }
});

async function connect(
  options: PlivoTransportOptions = {},
  callerOptions: FakePlivoCallerOptions = {},
): Promise<{ transport: PlivoTransport; recorder: Recorder; caller: FakePlivoCaller }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  servers.push(wss);
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const caller = await FakePlivoCaller.connect(`ws://127.0.0.1:${port}/plivo/media`, { sendSilence: false, ...callerOptions });
  const [ws] = await connection;
  const transport = new PlivoTransport(ws, options);
  const recorder = new Recorder();
  transport.attach(recorder.events);
  await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
  return { transport, recorder, caller };
}

/** Checkpoint names the caller received. */
function checkpoints(caller: FakePlivoCaller): string[] {
  return caller.received.toArray().filter((e) => e.event === 'checkpoint').map((e) => e.name ?? '');
}

describe('PlivoTransport: inbound', () => {
  test('start becomes a CallStart in the stream format with the extra headers as parameters', async () => {
    const { recorder, caller, transport } = await connect({}, { extraHeaders: 'CallUUID=abc123,From=15551234567' });
    assert.deepEqual(recorder.of('start')[0]?.info, {
      callId: caller.callId,
      streamId: caller.streamId,
      parameters: { CallUUID: 'abc123', From: '15551234567' },
      format: { encoding: 'pcmu', sampleRate: 8000 },
    });
    assert.equal(transport.kind, 'plivo');
    assert.equal(transport.streamId, caller.streamId);
    await caller.stop();
  });

  test('an L16 16 kHz stream is PCM16 16 kHz, and its 20 ms frames are 640 bytes = 20 ms', async () => {
    const { recorder, caller } = await connect({}, { format: 'l16-16000' });
    assert.deepEqual(recorder.of('start')[0]?.info.format, { encoding: 'pcm16', sampleRate: 16000 });
    await caller.sendSpeech(toneAt(16000, 60));
    await recorder.waitFor(() => recorder.of('audio').length >= 3, 5000, 'three frames');
    assert.deepEqual(recorder.of('audio').slice(0, 3).map((a) => [a.bytes.length, a.durationMs]), [[640, 20], [640, 20], [640, 20]]);
    await caller.stop();
  });

  test('dtmf is passed on; malformed messages are coded bad inputs and the call lives on', async () => {
    const { recorder, caller } = await connect();
    caller.sendDtmf('7');
    caller.sendRaw('{nope');
    caller.sendJson({ event: 'media', streamId: 'other-stream', media: { track: 'inbound', chunk: 1, timestamp: '1', payload: '/w==' } });
    caller.sendRaw(Uint8Array.from([1, 2, 3]));
    caller.sendJson({ event: 'start', start: {} });
    await recorder.waitFor(() => recorder.of('badInput').length === 4, 5000, 'four bad inputs');
    assert.deepEqual(recorder.of('dtmf').map((d) => d.digit), ['7']);
    assert.deepEqual(recorder.of('badInput').map((b) => b.code), ['VW_ERR_BAD_JSON', 'VW_ERR_WRONG_STREAM', 'VW_ERR_BINARY_FRAME', 'VW_ERR_BAD_FIELD']);
    assert.equal(caller.isOpen, true);
    await caller.stop();
  });

  test('extra headers accept both separators and stay plain keys', () => {
    assert.deepEqual(parseExtraHeaders('a=1;b=2,c=3,__proto__=x,novalue,=y'), Object.fromEntries([['a', '1'], ['b', '2'], ['c', '3'], ['__proto__', 'x']]));
  });
});

describe('PlivoTransport: outbound and played-ACKs', () => {
  test('a checkpoint follows each play during which 200 ms accumulated; playedStream after playout raises played at each position', async () => {
    const { transport, recorder, caller } = await connect();
    for (const ms of [200, 200, 100]) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(8 * ms).fill(0x55), durationMs: ms });
    transport.endSentence(0, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'sentence played');
    assert.deepEqual(checkpoints(caller).map((n) => parseMarkName(n)?.positionMs), [200, 400, 500]);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [[0, 200], [0, 400], [0, 500]]);
    assert.ok(caller.playedMs >= 500);
    assert.deepEqual(caller.violations.toArray(), []);
    const stats = transport.stats();
    assert.equal(stats.playsSent, 3);
    assert.equal(stats.checkpointsSent, 3);
    await caller.stop();
  });

  for (const policy of ['drop', 'ack-before-cleared', 'ack-after-cleared'] as const) {
    test(`clear sends clearAudio; checkpoints it dropped never count as played (Plivo ${policy})`, async () => {
      const { transport, recorder, caller } = await connect({}, { onClear: policy });
      for (let i = 0; i < 5; i++) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(8 * 200).fill(0x55), durationMs: 200 });
      await recorder.waitFor(() => recorder.of('played').length >= 1, 5000, 'first checkpoint played');
      transport.clear(1);
      await caller.waitUntil(() => caller.acks.includes('clearedAudio'), 5000, 'clearedAudio sent');
      // The new epoch's audio is confirmed from 0; nothing of epoch 0 after the clear is.
      transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: new Uint8Array(8 * 200).fill(0x55), durationMs: 200 });
      // The socket keeps order: once epoch 1's playedStream is in, clearedAudio and any flushed acks are too.
      await recorder.waitFor(() => recorder.of('played').some((p) => p.epoch === 1 && p.ms === 200), 5000, 'epoch 1 played');
      assert.equal(transport.stats().clearsAcknowledged, 1);
      const epoch0 = recorder.of('played').filter((p) => p.epoch === 0).map((p) => p.ms);
      assert.ok(epoch0.every((ms) => ms <= 400), `epoch 0 confirmations ${epoch0.join(", ")}`);
      assert.ok(caller.clears.length === 1 && caller.clears.toArray()[0]!.flushedMarks >= 1);
      const flushedAcks = policy === 'drop' ? 0 : caller.clears.toArray()[0]!.flushedMarks;
      assert.equal(transport.stats().playedFlushed, flushedAcks);
      // 0: the marker sent right behind the clear (the caller is silent); 200: the new audio.
      assert.deepEqual(recorder.of('played').filter((p) => p.epoch === 1).map((p) => p.ms), [0, 200]);
      assert.equal(transport.stats().clearsSent, 1);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  test('audio of an older epoch is dropped; a newer epoch closes the old one with a checkpoint', async () => {
    const { transport, recorder, caller } = await connect();
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: new Uint8Array(8 * 100), durationMs: 100 });
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(8 * 100), durationMs: 100 });
    transport.sendAudio({ epoch: 2, sentenceId: 0, bytes: new Uint8Array(8 * 50), durationMs: 50 });
    transport.endSentence(2, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'sentence of epoch 2');
    assert.equal(transport.stats().staleSends, 1);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [[1, 100], [2, 50]]);
    await caller.stop();
  });

  test('a forged or unknown playedStream is ignored and counted', async () => {
    const { transport, recorder, caller } = await connect();
    caller.sendPlayed('vw:0:99:100');
    caller.sendPlayed('customer greeting audio');
    caller.sendDtmf('1'); // a fence: the socket keeps order
    await recorder.waitFor(() => recorder.of('dtmf').length === 1, 5000, 'the fence');
    assert.equal(transport.stats().playedUnknown, 2);
    assert.deepEqual(recorder.of('played'), []);
    await caller.stop();
  });

  test('nothing is sent before start; a second start closes with 4004', async () => {
    const { transport, recorder, caller } = await connect();
    caller.sendJson({ event: 'start', sequenceNumber: 9, start: { callId: caller.callId, streamId: caller.streamId, accountId: 'MA1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } });
    await recorder.waitFor(() => recorder.of('closed').length === 1, 5000, 'closed');
    assert.deepEqual(recorder.of('closed')[0], { type: 'closed', code: 4004, reason: 'start received twice', error: 'VW_ERR_DUPLICATE_START' });
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(80), durationMs: 10 });
    assert.equal(transport.stats().sendsDropped, 1);
  });
});
