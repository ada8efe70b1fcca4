/**
 * VonageTransport against the fake Vonage caller over real sockets: connected and formats, inbound
 * audio, 20 ms frames with notify → websocket:notify credit (only what played), clear, epochs,
 * and malformed input that leaves the call alive.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import { VonageTransport, type VonageTransportOptions } from '../../../src/transports/vonage/adapter.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import { Recorder } from '../twilio/helpers.js';
import { FakeVonageCaller, type FakeVonageCallerOptions } from '../../fakes/vonage-caller.js';
import { toneAt } from '../../fakes/paced-caller.js';

const servers: WebSocketServer[] = [];
after(() => {
  for (const wss of servers) {
    for (const client of wss.clients) client.terminate();
    wss.close();
  }
});

async function connect(options: VonageTransportOptions = {}, callerOptions: FakeVonageCallerOptions = {}, waitStart = true): Promise<{ transport: VonageTransport; recorder: Recorder; caller: FakeVonageCaller }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  servers.push(wss);
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const caller = await FakeVonageCaller.connect(`ws://127.0.0.1:${port}/vonage/media`, { sendSilence: false, ...callerOptions });
  const [ws] = await connection;
  const transport = new VonageTransport(ws, options);
  const recorder = new Recorder();
  transport.attach(recorder.events);
  if (waitStart) await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
  return { transport, recorder, caller };
}

const pcm = (ms: number, rate = 16000): Uint8Array => new Uint8Array((ms * rate * 2) / 1000).fill(0x11);
const notifyNames = (caller: FakeVonageCaller): string[] =>
  caller.received.toArray().filter((e) => e.event === 'notify').map((e) => String((JSON.parse(e.name ?? '{}') as { name?: string }).name));

describe('VonageTransport: inbound', () => {
  test('websocket:connected becomes a CallStart in PCM16 at the content-type rate, with the headers', async () => {
    const { recorder, caller, transport } = await connect({}, { endpointHeaders: { uuid: 'call-1', conversation_uuid: 'CON-1', from: '447700900000' } });
    assert.deepEqual(recorder.of('start')[0]?.info, {
      callId: 'call-1',
      streamId: 'CON-1',
      parameters: { from: '447700900000', uuid: 'call-1' },
      format: { encoding: 'pcm16', sampleRate: 16000 },
    });
    assert.equal(transport.kind, 'vonage');
    assert.equal(caller.uuid, 'call-1');
    await caller.stop();
  });

  test('binary frames are caller audio: 640 bytes = 20 ms at 16 kHz, 320 bytes = 20 ms at 8 kHz', async () => {
    for (const rate of [16000, 8000] as const) {
      const { recorder, caller } = await connect({}, { rate });
      await caller.sendSpeech(toneAt(rate, 40));
      await recorder.waitFor(() => recorder.of('audio').length >= 2, 5000, 'two frames');
      assert.deepEqual(recorder.of('audio').slice(0, 2).map((a) => [a.bytes.length, a.durationMs]), [[rate / 25, 20], [rate / 25, 20]]);
      await caller.stop();
    }
  });

  test('dtmf is passed on; malformed messages are coded bad inputs and the call lives on', async () => {
    const { recorder, caller } = await connect();
    caller.sendDtmf('9');
    caller.sendRaw('{nope');
    caller.sendRaw(Uint8Array.from([1, 2, 3]));
    caller.sendJson({ event: 'websocket:bogus' });
    caller.sendJson({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' });
    await recorder.waitFor(() => recorder.of('closed').length === 1, 5000, 'closed by the second connected');
    assert.deepEqual(recorder.of('dtmf').map((d) => d.digit), ['9']);
    assert.deepEqual(recorder.of('badInput').map((b) => b.code), ['VW_ERR_BAD_JSON', 'VW_ERR_BAD_PAYLOAD_SIZE', 'VW_ERR_UNKNOWN_EVENT']);
    assert.equal(recorder.of('closed')[0]?.code, 4004);
  });

  test('audio or a notify before websocket:connected is a bad input; nothing is sent before it', async () => {
    const { transport, recorder, caller } = await connect({}, { autoStart: false }, false);
    caller.sendRaw(new Uint8Array(640));
    caller.sendNotify({ name: 'vw:0:0:0' });
    await recorder.waitFor(() => recorder.of('badInput').length === 2, 5000, 'two bad inputs');
    assert.deepEqual(recorder.of('badInput').map((b) => b.code), ['VW_ERR_MEDIA_BEFORE_START', 'VW_ERR_MEDIA_BEFORE_START']);
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(20), durationMs: 20 });
    assert.equal(transport.stats().sendsDropped, 1);
    caller.sendConnected();
    await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
    await caller.stop();
  });
});

describe('VonageTransport: outbound and played-ACKs', () => {
  test('audio goes out in 640-byte frames with a notify every 200 ms; echoes raise played', async () => {
    const { transport, recorder, caller } = await connect();
    // 530 ms in uneven pieces: the framer carries the remainders.
    for (const ms of [110, 95, 205, 120]) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(ms), durationMs: ms });
    transport.endSentence(0, 0);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'sentence played');
    const sizes = new Set(caller.received.toArray().filter((e) => e.event === 'audio').map((e) => e.bytes));
    assert.deepEqual([...sizes], [640]);
    assert.deepEqual(notifyNames(caller).map((n) => parseMarkName(n)?.positionMs), [200, 400, 530]);
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [[0, 200], [0, 400], [0, 530]]);
    const stats = transport.stats();
    assert.equal(stats.framesSent, 27);
    assert.equal(stats.paddingBytes, 640 - (530 * 32) % 640);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  for (const onClear of ['drop', 'notify-before-cleared', 'notify-after-cleared'] as const) {
    test(`clear sends clear and drops the remainder; notifies it flushed never count (Vonage ${onClear})`, async () => {
      const { transport, recorder, caller } = await connect({}, { onClear });
      transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(1010), durationMs: 1010 });
      await recorder.waitFor(() => recorder.of('played').length >= 1, 5000, 'first notify played');
      transport.clear(1);
      transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: pcm(200), durationMs: 200 });
      // The socket keeps order: once epoch 1 is confirmed, websocket:cleared and any flushed echoes are in.
      await recorder.waitFor(() => recorder.of('played').some((p) => p.epoch === 1 && p.ms === 200), 5000, 'epoch 1 played');
      const stats = transport.stats();
      assert.equal(stats.clearsSent, 1);
      assert.equal(stats.clearsAcknowledged, 1);
      const flushed = caller.clears.toArray()[0]!.flushedMarks;
      assert.ok(flushed >= 1);
      assert.equal(stats.notifiesFlushed, onClear === 'drop' ? 0 : flushed);
      assert.ok(recorder.of('played').filter((p) => p.epoch === 0).every((p) => p.ms <= 400));
      // 0: the marker sent right behind the clear (the caller is silent); 200: the new audio.
      assert.deepEqual(recorder.of('played').filter((p) => p.epoch === 1).map((p) => p.ms), [0, 200]);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  test('a newer epoch without a clear first sends the old remainder padded, then its closing notify', async () => {
    const { transport, recorder, caller } = await connect();
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(50), durationMs: 50 });
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: pcm(40), durationMs: 40 });
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(40), durationMs: 40 });
    transport.endSentence(1, 3);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'sentence 3 played');
    assert.deepEqual(recorder.of('played').map((p) => [p.epoch, p.ms]), [[0, 50], [1, 40]]);
    assert.deepEqual(recorder.of('sentencePlayed').map((s) => [s.epoch, s.sentenceId]), [[1, 3]]);
    assert.equal(transport.stats().staleSends, 1);
    await caller.stop();
  });

  test('a forged notify is ignored and counted', async () => {
    const { transport, recorder, caller } = await connect();
    caller.sendNotify({ name: 'vw:0:42:100' });
    caller.sendNotify({ other: true });
    caller.sendDtmf('1'); // a fence: the socket keeps order
    await recorder.waitFor(() => recorder.of('dtmf').length === 1, 5000, 'the fence');
    assert.equal(transport.stats().notifiesUnknown, 2);
    assert.deepEqual(recorder.of('played'), []);
    await caller.stop();
  });
});
