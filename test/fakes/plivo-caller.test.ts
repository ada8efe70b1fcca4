/**
 * The fake Plivo caller itself, against a bare `ws` server playing the gateway: it must pace its
 * media at exactly the sample rate, play received audio in real time, acknowledge a checkpoint only
 * after the audio before it has played, honour clearAudio, and flag what Plivo would reject.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { FakePlivoCaller, type FakePlivoCallerOptions } from './plivo-caller.js';

const servers: WebSocketServer[] = [];
after(() => {
  for (const wss of servers) {
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
});

interface Peer {
  readonly ws: WebSocket;
  readonly caller: FakePlivoCaller;
  readonly inbox: Array<Record<string, unknown> & { at: number }>;
}

async function peer(options: FakePlivoCallerOptions = {}): Promise<Peer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const caller = await FakePlivoCaller.connect(`ws://127.0.0.1:${port}/`, options);
  const [ws] = await connection;
  const inbox: Peer['inbox'] = [];
  ws.on('message', (data: RawData) => inbox.push({ ...(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>), at: caller.now() }));
  return { ws, caller, inbox };
}

const play = (ws: WebSocket, ms: number): void =>
  ws.send(JSON.stringify({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: Buffer.alloc(ms * 8, 0x55).toString('base64') } }));

describe('FakePlivoCaller', () => {
  test('sends start, then one 20 ms media frame per 20 ms of wall time', async () => {
    const { caller, inbox } = await peer();
    await caller.waitUntil(() => caller.framesSent >= 50, 3000, '50 frames');
    const elapsed = caller.now();
    const media = inbox.filter((m) => m['event'] === 'media');
    assert.equal(inbox[0]?.['event'], 'start');
    assert.ok(Math.abs(caller.framesSent * 20 - elapsed) <= 40, `${caller.framesSent} frames in ${elapsed.toFixed(0)} ms`);
    const first = media[0]?.['media'] as { payload: string; chunk: number; track: string };
    assert.equal(Buffer.from(first.payload, 'base64').length, 160);
    assert.deepEqual([first.chunk, first.track], [1, 'inbound']);
    await caller.stop();
  });

  test('L16 16 kHz frames are 640 bytes of little-endian PCM', async () => {
    const { caller, inbox } = await peer({ format: 'l16-16000' });
    await caller.waitUntil(() => caller.framesSent >= 2, 3000, 'two frames');
    const start = inbox[0]?.['start'] as { mediaFormat: unknown };
    assert.deepEqual(start.mediaFormat, { encoding: 'audio/x-l16', sampleRate: 16000 });
    await caller.waitUntil(() => inbox.some((m) => m['event'] === 'media'), 3000, 'media received');
    const media = inbox.find((m) => m['event'] === 'media')?.['media'] as { payload: string };
    assert.equal(Buffer.from(media.payload, 'base64').length, 640);
    await caller.stop();
  });

  test('plays at exactly 8 bytes/ms and acknowledges a checkpoint only once the audio before it played', async () => {
    const { ws, caller, inbox } = await peer({ sendSilence: false });
    const sentAt = caller.now();
    play(ws, 300);
    ws.send(JSON.stringify({ event: 'checkpoint', streamId: caller.streamId, name: 'cp1' }));
    await caller.waitUntil(() => inbox.some((m) => m['event'] === 'playedStream'), 3000, 'playedStream');
    const ack = inbox.find((m) => m['event'] === 'playedStream')!;
    assert.deepEqual({ ...ack, at: 0, sequenceNumber: 0 }, { event: 'playedStream', sequenceNumber: 0, streamId: caller.streamId, name: 'cp1', at: 0 });
    assert.ok(ack.at - sentAt >= 290 && ack.at - sentAt <= 360, `acknowledged ${(ack.at - sentAt).toFixed(0)} ms after 300 ms of audio`);
    assert.equal(caller.playedMs, 300);
    await caller.stop();
  });

  for (const onClear of ['drop', 'ack-before-cleared', 'ack-after-cleared'] as const) {
    test(`clearAudio empties the buffer and answers clearedAudio (flushed checkpoints: ${onClear})`, async () => {
      const { ws, caller, inbox } = await peer({ sendSilence: false, onClear });
      play(ws, 1000);
      ws.send(JSON.stringify({ event: 'checkpoint', streamId: caller.streamId, name: 'late' }));
      await caller.waitUntil(() => caller.playedMs >= 100, 3000, '100 ms played');
      ws.send(JSON.stringify({ event: 'clearAudio', streamId: caller.streamId }));
      await caller.waitUntil(() => inbox.some((m) => m['event'] === 'clearedAudio'), 3000, 'clearedAudio');
      const order = inbox.filter((m) => m['event'] === 'clearedAudio' || m['event'] === 'playedStream').map((m) => String(m['event']));
      assert.deepEqual(order, { drop: ['clearedAudio'], 'ack-before-cleared': ['playedStream', 'clearedAudio'], 'ack-after-cleared': ['clearedAudio', 'playedStream'] }[onClear]);
      assert.equal(caller.bufferedMs, 0);
      assert.ok(caller.clears.toArray()[0]!.droppedMs >= 800);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  test('records what Plivo would reject: wrong streamId, a codec switch, extra fields, unknown events, binary', async () => {
    const { ws, caller } = await peer({ sendSilence: false });
    ws.send(JSON.stringify({ event: 'checkpoint', streamId: 'other', name: 'x' }));
    ws.send(JSON.stringify({ event: 'playAudio', media: { contentType: 'audio/x-l16', sampleRate: 8000, payload: 'AAAA' } }));
    ws.send(JSON.stringify({ event: 'playAudio', streamId: caller.streamId, media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: 'AAAA' } }));
    ws.send(JSON.stringify({ event: 'mark', streamId: caller.streamId }));
    ws.send(Buffer.from([1, 2]));
    await caller.waitUntil(() => caller.violations.length === 5, 3000, 'five violations');
    assert.deepEqual(caller.violations.toArray().map((v) => v.kind), ['wrong-stream', 'format-switch', 'bad-fields', 'unknown-event', 'binary-frame']);
    assert.equal(caller.playedMs + caller.bufferedMs, 0, 'rejected audio is not played');
    await caller.stop();
  });
});
