/**
 * The fake browser against a hand-scripted server (no BrowserTransport), so the fake is checked on
 * its own: what it sends, when, and what it refuses.
 */
import { Conditions } from '../helpers/conditions.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeBrowserClient } from './browser-client.js';
import {
  decodeClientMessage,
  decodeFrame,
  encodeControl,
  encodeFrame,
  int16ToPcm,
  type ClientMessage,
  type ServerMessage,
} from '../../src/transports/browser/codec.js';

interface Peer {
  readonly ws: WebSocket;
  readonly received: Array<{ readonly at: number; readonly message: ClientMessage }>;
  readonly mic: Array<{ readonly at: number; readonly seq: number; readonly samples: number }>;
}

const server = createServer();
const wss = new WebSocketServer({ server });
const peers: Peer[] = [];
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

const serverConditions = new Conditions('scripted server');

/** Resolves once `check()` holds, re-checked whenever the scripted server receives something. */
function serverSaw(check: () => boolean, timeoutMs = 2_000, what = 'message'): Promise<void> {
  return serverConditions.until(check, timeoutMs, what);
}

wss.on('connection', (ws) => {
  const peer: Peer = { ws, received: [], mic: [] };
  peers.push(peer);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    onPeerMessage(peer, ws, data, isBinary);
    serverConditions.notify();
  });
});

function onPeerMessage(peer: Peer, ws: WebSocket, data: Buffer, isBinary: boolean): void {
  {
    if (isBinary) {
      const result = decodeFrame(new Uint8Array(data), { kind: 'mic' });
      assert.ok(result.ok, 'the fake sends well-formed mic frames');
      peer.mic.push({ at: Date.now(), seq: result.frame.seq, samples: result.frame.pcm.length / 2 });
      return;
    }
    const result = decodeClientMessage(data.toString('utf8'));
    assert.ok(result.ok, `the fake sends well-formed messages: ${data.toString('utf8')}`);
    peer.received.push({ at: Date.now(), message: result.message });
    if (result.message.type === 'hello') {
      send(ws, {
        type: 'ready', version: 1, sessionId: 'scripted', playback: { encoding: 'pcm16', sampleRate: 24000 }, mic: { encoding: 'pcm16', sampleRate: 16000 },
        epoch: 5, windowMs: result.message.windowMs ?? 800, heartbeatMs: 10_000, maxMicFrameMs: 100,
      });
    }
  }
}

after(async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function send(ws: WebSocket, message: ServerMessage): void {
  ws.send(encodeControl(message));
}

function audio(ws: WebSocket, epoch: number, seq: number, sentenceId: number, ms: number): void {
  const pcm = int16ToPcm(new Int16Array((ms * 24000) / 1000).fill(1000));
  ws.send(encodeFrame({ kind: 'audio', sampleRate: 24000, epoch, seq, sentenceId, pcm }));
}

function reports(peer: Peer, epoch?: number): Array<{ at: number; playedMs: number; epoch: number }> {
  return peer.received.flatMap(({ at, message }) =>
    message.type === 'played' && (epoch === undefined || message.epoch === epoch) ? [{ at, playedMs: message.playedMs, epoch: message.epoch }] : [],
  );
}

describe('FakeBrowserClient', () => {
  test('plays in real time, reporting cumulatively every 50–100 ms, and acks the sentence at its end', async () => {
    const client = await FakeBrowserClient.connect(url, { windowMs: 800 });
    const peer = peers.at(-1)!;
    assert.deepEqual(peer.received[0]?.message, { type: 'hello', version: 1, playbackRate: 24000, micRate: 16000, windowMs: 800 });
    const started = client.now();
    const startedWall = Date.now();
    for (let i = 0; i < 15; i++) audio(peer.ws, 5, i, 1, 20);
    send(peer.ws, { type: 'sentence_end', epoch: 5, sentenceId: 1 });
    await serverSaw(() => peer.received.some((r) => r.message.type === 'sentence_played'), 3_000, 'ack');
    const elapsed = Date.now() - startedWall;
    assert.ok(elapsed >= 280, `300 ms of audio took ${elapsed} ms to play: real time, not faster`);
    const played = reports(peer, 5);
    assert.equal(played.at(-1)?.playedMs, 300);
    for (let i = 1; i < played.length; i++) assert.ok(played[i]!.playedMs > played[i - 1]!.playedMs);
    // Report spacing in audio: at least every 100 ms of playback (cumulative, so a lost one heals).
    for (let i = 1; i < played.length; i++) assert.ok(played[i]!.playedMs - played[i - 1]!.playedMs <= 100);
    assert.deepEqual(client.sentAcks, [{ epoch: 5, sentenceId: 1 }]);
    assert.ok(client.heardSince(started) >= 299);
    await client.close();
  });

  test('frames beyond the window are counted, not stored', async () => {
    const client = await FakeBrowserClient.connect(url, { windowMs: 200 });
    const peer = peers.at(-1)!;
    client.pause();
    for (let i = 0; i < 15; i++) audio(peer.ws, 5, i, 1, 20);
    await client.waitUntil(() => client.framesReceived === 15, 2_000, 'frames');
    assert.equal(client.core.counters.framesOverflow, 5);
    assert.equal(client.maxBufferedMs, 200);
    assert.equal(client.frames.filter((f) => f.result === 'overflow').length, 5);
    await client.close();
  });

  test('clear drops everything; late frames of the old epoch are dropped and never played', async () => {
    const client = await FakeBrowserClient.connect(url, { windowMs: 800 });
    const peer = peers.at(-1)!;
    for (let i = 0; i < 30; i++) audio(peer.ws, 5, i, 1, 20);
    await serverSaw(() => reports(peer, 5).length >= 2, 2_000, 'playback');
    send(peer.ws, { type: 'clear', epoch: 6 });
    for (let i = 30; i < 35; i++) audio(peer.ws, 5, i, 1, 20);
    audio(peer.ws, 6, 0, 2, 40);
    await serverSaw(() => reports(peer, 6).at(-1)?.playedMs === 40, 2_000, 'epoch 6 played');
    assert.equal(client.clears, 1);
    assert.equal(client.core.counters.framesStale, 5);
    assert.equal(client.stalePlayedSamples, 0);
    const afterClear = peer.received.findIndex((r) => r.message.type === 'played' && r.message.epoch === 6);
    assert.ok(peer.received.slice(afterClear).every((r) => r.message.type !== 'played' || r.message.epoch === 6), 'no epoch 5 report after the first epoch 6 one');
    assert.equal(client.playedByEpoch.get(6), 40);
    await client.close();
  });

  test('a paused player stops reporting; resuming continues from where it stopped', async () => {
    const client = await FakeBrowserClient.connect(url, { windowMs: 800 });
    const peer = peers.at(-1)!;
    client.pause();
    for (let i = 0; i < 10; i++) audio(peer.ws, 5, i, 1, 20);
    await client.waitUntil(() => client.framesReceived === 10, 2_000, 'frames');
    assert.equal(reports(peer).length, 0);
    assert.equal(client.bufferedMs, 200);
    client.resume();
    await serverSaw(() => reports(peer).at(-1)?.playedMs === 200, 2_000, 'played out');
    await client.close();
  });

  test('mic audio is sent as paced 20 ms frames with consecutive sequence numbers', async () => {
    const client = await FakeBrowserClient.connect(url);
    const peer = peers.at(-1)!;
    await client.sendMic(new Int16Array(1600), { frameMs: 20 });
    await serverSaw(() => peer.mic.length === 5, 2_000, 'five mic frames');
    assert.deepEqual(peer.mic.map((m) => [m.seq, m.samples]), [[0, 320], [1, 320], [2, 320], [3, 320], [4, 320]]);
    const span = peer.mic.at(-1)!.at - peer.mic[0]!.at;
    assert.ok(span >= 70, `5 frames of 20 ms spread over ${span} ms`);
    await client.close();
  });

  test('pings are answered with the same id and t', async () => {
    const client = await FakeBrowserClient.connect(url);
    const peer = peers.at(-1)!;
    send(peer.ws, { type: 'ping', id: 3, t: 99 });
    await client.waitUntil(() => client.messages.some((m) => m.type === 'ping'), 2_000, 'ping');
    await serverSaw(() => peer.received.some((r) => r.message.type === 'pong'), 2_000, 'pong');
    assert.deepEqual(peer.received.find((r) => r.message.type === 'pong')?.message, { type: 'pong', id: 3, t: 99 });
    await client.close();
  });
});
