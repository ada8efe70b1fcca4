/**
 * BrowserTransport under a real CallSession, with the fake browser on a real socket: the window
 * the browser asked for bounds what its player ever holds, and a barge-in empties it at once.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { CallSession } from '../../../src/session/call-session.js';
import { silentLogger } from '../../../src/server/logger.js';
import { BrowserTransport } from '../../../src/transports/browser/adapter.js';
import { PCM16_24K } from '../../../src/audio/format.js';
import { RecordingModel } from '../../session/fakes.js';
import { FakeBrowserClient } from '../../fakes/browser-client.js';

const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const sessions: Array<{ session: CallSession; model: RecordingModel }> = [];
wss.on('connection', (ws) => {
  const model = new RecordingModel(false, PCM16_24K);
  const session = new CallSession({
    transport: new BrowserTransport(ws),
    createModel: () => model,
    logger: silentLogger(),
    creditWindowMs: 800,
    maxQueuedAudioMs: 60_000,
  });
  sessions.push({ session, model });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

after(async () => {
  for (const { session } of sessions) session.end('test over');
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** `ms` of PCM16 24 kHz as one model delta. */
function pcm(ms: number): Uint8Array {
  return new Uint8Array(ms * 48).fill(0x10);
}

describe('BrowserTransport with CallSession', () => {
  test('the player never holds more than its window; a barge-in empties it and old audio never plays', async () => {
    const client = await FakeBrowserClient.connect(url, { windowMs: 300 });
    const { model, session } = sessions.at(-1)!;
    model.events.responseStarted('r1');
    // Two seconds arrive at once, far faster than real time.
    await model.events.audio({ responseId: 'r1', itemId: 'i1', sentenceId: 0, bytes: pcm(2_000), durationMs: 2_000 });
    await client.waitUntil(() => (client.playedByEpoch.get(0) ?? 0) >= 500, 3_000, '500 ms played');
    assert.ok(client.maxBufferedMs <= 300, `player held ${client.maxBufferedMs} ms`);
    assert.equal(client.core.counters.framesOverflow, 0, 'the server never sent past the window');
    assert.ok(session.snapshot().queuedMs > 0, 'the rest waits in the gateway, not in the player');

    model.events.speechStarted();
    await client.waitUntil(() => client.clears === 1, 2_000, 'clear');
    const clearedAt = client.lastClearAt ?? client.now();
    assert.equal(client.bufferedMs, 0);
    assert.equal(client.core.epoch, 1);
    const interrupt = model.calls.find((c) => c.kind === 'interrupt');
    assert.ok(interrupt?.kind === 'interrupt' && typeof interrupt.heard === 'object');
    assert.ok(interrupt.heard.audioEndMs >= 500 && interrupt.heard.audioEndMs <= 2_000, `truncated at ${interrupt.heard.audioEndMs}`);

    model.events.responseStarted('r2');
    await model.events.audio({ responseId: 'r2', itemId: 'i2', sentenceId: 1, bytes: pcm(100), durationMs: 100 });
    model.events.sentenceEnd('r2', 1);
    await client.waitUntil(() => client.sentAcks.some((a) => a.epoch === 1 && a.sentenceId === 1), 2_000, 'epoch 1 sentence played');
    assert.equal(client.heardSince(clearedAt, 0), 0, 'nothing of the interrupted response played after the clear');
    assert.equal(client.stalePlayedSamples, 0);
    assert.equal(client.playedByEpoch.get(1), 100);
    await client.close();
  });
});
