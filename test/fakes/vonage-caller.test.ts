/**
 * The fake Vonage caller itself, against a bare `ws` server playing the gateway: it must pace its
 * binary frames at exactly the sample rate, play received frames in real time, echo a notify only
 * after the audio before it has played, honour clear, and flag what Vonage would reject.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { FakeVonageCaller, type FakeVonageCallerOptions } from './vonage-caller.js';

const servers: WebSocketServer[] = [];
after(() => {
  for (const wss of servers) {
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
});

interface Peer {
  readonly ws: WebSocket;
  readonly caller: FakeVonageCaller;
  readonly texts: Array<Record<string, unknown> & { at: number }>;
  readonly frames: number[];
}

async function peer(options: FakeVonageCallerOptions = {}): Promise<Peer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const caller = await FakeVonageCaller.connect(`ws://127.0.0.1:${port}/`, options);
  const [ws] = await connection;
  const texts: Peer['texts'] = [];
  const frames: number[] = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) frames.push((data as Buffer).length);
    else texts.push({ ...(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>), at: caller.now() });
  });
  return { ws, caller, texts, frames };
}

const frames = (ws: WebSocket, count: number, size = 640): void => {
  for (let i = 0; i < count; i++) ws.send(Buffer.alloc(size, 0x11), { binary: true });
};

describe('FakeVonageCaller', () => {
  test('sends websocket:connected, then one 640-byte binary frame per 20 ms of wall time', async () => {
    const { caller, texts, frames: received } = await peer();
    await caller.waitUntil(() => caller.framesSent >= 50, 3000, '50 frames');
    const elapsed = caller.now();
    assert.deepEqual({ ...texts[0], at: 0 }, { event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', uuid: caller.uuid, at: 0 });
    assert.ok(Math.abs(caller.framesSent * 20 - elapsed) <= 40, `${caller.framesSent} frames in ${elapsed.toFixed(0)} ms`);
    await caller.waitUntil(() => received.length >= 10, 3000, 'frames received');
    assert.deepEqual([...new Set(received)], [640]);
    await caller.stop();
  });

  test('plays at exactly 32 bytes/ms and echoes a notify payload only once the audio before it played', async () => {
    const { ws, caller, texts } = await peer({ sendSilence: false });
    const sentAt = caller.now();
    frames(ws, 15);
    ws.send(JSON.stringify({ action: 'notify', payload: { name: 'n1', extra: [1, 2] } }));
    await caller.waitUntil(() => texts.some((m) => m['event'] === 'websocket:notify'), 3000, 'notify echo');
    const echo = texts.find((m) => m['event'] === 'websocket:notify')!;
    assert.deepEqual(echo['payload'], { name: 'n1', extra: [1, 2] });
    assert.ok(echo.at - sentAt >= 290 && echo.at - sentAt <= 360, `echoed ${(echo.at - sentAt).toFixed(0)} ms after 300 ms of audio`);
    assert.equal(caller.playedMs, 300);
    await caller.stop();
  });

  for (const onClear of ['drop', 'notify-before-cleared', 'notify-after-cleared'] as const) {
    test(`clear empties the buffer and answers websocket:cleared (pending notifies: ${onClear})`, async () => {
      const { ws, caller, texts } = await peer({ sendSilence: false, onClear });
      frames(ws, 50);
      ws.send(JSON.stringify({ action: 'notify', payload: { name: 'late' } }));
      await caller.waitUntil(() => caller.playedMs >= 100, 3000, '100 ms played');
      ws.send(JSON.stringify({ action: 'clear' }));
      await caller.waitUntil(() => texts.some((m) => m['event'] === 'websocket:cleared'), 3000, 'cleared');
      const order = texts.filter((m) => m['event'] !== 'websocket:connected').map((m) => String(m['event']));
      assert.deepEqual(order, { drop: ['websocket:cleared'], 'notify-before-cleared': ['websocket:notify', 'websocket:cleared'], 'notify-after-cleared': ['websocket:cleared', 'websocket:notify'] }[onClear]);
      assert.equal(caller.bufferedMs, 0);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  test('records what Vonage would reject: odd frame sizes, unknown actions, extra fields, text that is not JSON', async () => {
    const { ws, caller } = await peer({ sendSilence: false });
    ws.send(Buffer.alloc(600), { binary: true });
    ws.send(JSON.stringify({ action: 'play' }));
    ws.send(JSON.stringify({ action: 'clear', now: true }));
    ws.send('nope');
    await caller.waitUntil(() => caller.violations.length === 4, 3000, 'four violations');
    assert.deepEqual(caller.violations.toArray().map((v) => v.kind), ['bad-frame-size', 'unknown-action', 'bad-fields', 'bad-json']);
    assert.equal(caller.playedMs + caller.bufferedMs, 0, 'rejected audio is not played');
    await caller.stop();
  });
});
