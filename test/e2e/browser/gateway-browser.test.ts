/**
 * Issue 6, the browser path end to end from Node: fake browser ⇄ real gateway (POST /session, then
 * the /browser WebSocket) ⇄ fake OpenAI Realtime server. Every socket is real. The fake model
 * answers 5× faster than real time; the gateway must keep what the browser's player holds within
 * the window it asked for, drop (not flush) on barge-in, and refuse upgrades without a valid
 * single-use token (401) or from a foreign origin (403).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../harness.js';
import type { FakeBrowserClient } from '../../fakes/browser-client.js';
import { concat, silence, tone } from './audio.js';
import { connectFakeBrowser, postSession, upgradeStatus } from './session.js';

const WINDOW_MS = 500;
const FRAME_MS = 20;
const ANSWER_MS = 10_000;
const MIC_RATE = 16_000;
const FOREIGN_ORIGIN = 'http://evil.example';
const LISTED_ORIGIN = 'https://app.example';

/** A short voiced phrase and the silence after it that lets the model's VAD end the turn. */
function utterance(ms: number): Int16Array {
  return concat([tone(MIC_RATE, ms, 300, 9000), silence(MIC_RATE, 700)]);
}

describe('browser ⇄ gateway ⇄ Realtime (fake browser, real sockets)', { concurrency: false }, () => {
  let r: RunningGateway;
  const clients: FakeBrowserClient[] = [];

  before(async () => {
    r = await startGateway({ ALLOWED_ORIGINS: LISTED_ORIGIN }, { answerMs: ANSWER_MS, speedFactor: 5, detectionDelayMs: 100 });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await r.close();
  });

  test('a 10 s answer streamed at 5× never puts more than the window (+1 frame) in the player', async () => {
    const client = await connectFakeBrowser(r.baseUrl, { windowMs: WINDOW_MS });
    clients.push(client);
    assert.equal(client.ready.windowMs, WINDOW_MS, 'the server accepted the window asked for');
    await client.sendMic(utterance(400));
    await client.waitUntil(() => (client.playedByEpoch.get(0) ?? 0) >= ANSWER_MS - FRAME_MS, ANSWER_MS + 10_000, 'the whole answer played');
    const maxServerBuffered = Math.max(0, ...client.messages.map((m) => (m.type === 'stats' ? m.serverBufferedMs : 0)));
    const { framesOverflow, underruns } = client.core.counters;
    console.log(
      `# browser, 10 s answer at 5×: max buffered in player ${client.maxBufferedMs.toFixed(0)} ms (window ${WINDOW_MS}),` +
        ` max waiting in gateway ${maxServerBuffered} ms, overflow frames ${framesOverflow}, underruns ${underruns}`,
    );
    assert.ok(client.maxBufferedMs <= WINDOW_MS + FRAME_MS, `player held ${client.maxBufferedMs} ms`);
    assert.ok(client.maxBufferedMs >= WINDOW_MS - 4 * FRAME_MS, `the window is used (${client.maxBufferedMs} ms)`);
    assert.equal(framesOverflow, 0, 'the server never sent past the window');
    assert.ok(maxServerBuffered >= 1_000, `the rest of the answer waited in the gateway (${maxServerBuffered} ms seen)`);
    assert.equal(client.protocolErrors, 0);
    assert.deepEqual(client.errors, []);
    await client.close();
  });

  test('barge-in 1.5 s into an answer: clear, nothing of the old epoch plays after it, the call goes on', async () => {
    const client = await connectFakeBrowser(r.baseUrl, { windowMs: WINDOW_MS });
    clients.push(client);
    await client.sendMic(utterance(400));
    await client.waitUntil(() => (client.playedByEpoch.get(0) ?? 0) >= 1_500, 10_000, '1.5 s of the answer played');
    const bufferedBeforeMs = client.bufferedMs;
    const speaking = client.sendMic(utterance(600));
    await client.waitUntil(() => client.clears >= 1, 5_000, 'clear');
    // Old-epoch audio output so far (not "since now": a tick in the clear's own millisecond, before
    // it, would count).
    const oldHeardAtClearMs = client.heardSince(0, 0);
    assert.equal(client.core.epoch, 1);
    assert.equal(client.bufferedMs, 0, 'the clear emptied the player at once');
    await speaking;
    // The model answers the interruption: epoch 1 audio plays, so the call lives on.
    await client.waitUntil(() => (client.playedByEpoch.get(1) ?? 0) >= 500, 10_000, 'the next answer plays in epoch 1');
    const staleReceived = client.frames.filter((f) => f.result === 'stale').length;
    const oldHeardAfterClearMs = client.heardSince(0, 0) - oldHeardAtClearMs;
    const lastBargeInMs = client.messages.reduce<number | undefined>((v, m) => (m.type === 'stats' && m.lastBargeInMs !== undefined ? m.lastBargeInMs : v), undefined);
    console.log(
      `# browser barge-in: ${bufferedBeforeMs.toFixed(0)} ms queued in the player when speech began,` +
        ` stale frames received and dropped ${staleReceived}, old-epoch audio played after clear ${oldHeardAfterClearMs} ms,` +
        ` server speech → clear ${lastBargeInMs ?? '–'} ms`,
    );
    assert.equal(oldHeardAfterClearMs, 0, 'nothing of the interrupted answer played after the clear');
    assert.equal(client.stalePlayedSamples, 0);
    assert.ok(lastBargeInMs !== undefined, 'the server reported its side of the barge-in in stats');
    assert.ok(client.maxBufferedMs <= WINDOW_MS + FRAME_MS, `player held ${client.maxBufferedMs} ms`);
    assert.equal(client.protocolErrors, 0);
    await client.close();
  });

  test('/browser refuses a missing or reused token (401) and a foreign Origin (403)', async () => {
    const ws = r.baseUrl.replace(/^http/, 'ws');
    assert.equal(await upgradeStatus(`${ws}/browser`), 401, 'no token');
    assert.equal(await upgradeStatus(`${ws}/browser?token=not-a-token`), 401, 'forged token');

    const once = await postSession(r.baseUrl);
    assert.equal(once.status, 200);
    assert.equal(once.body.wsUrl, '/browser');
    assert.ok(typeof once.body.expiresAt === 'number' && once.body.expiresAt > Date.now());
    const url = `${ws}/browser?token=${encodeURIComponent(once.body.token ?? '')}`;
    assert.equal(await upgradeStatus(url, { origin: r.baseUrl }), 101, 'same-origin, first use');
    assert.equal(await upgradeStatus(url, { origin: r.baseUrl }), 401, 'the token is single-use');

    const fresh = await postSession(r.baseUrl);
    const freshUrl = `${ws}/browser?token=${encodeURIComponent(fresh.body.token ?? '')}`;
    assert.equal(await upgradeStatus(freshUrl, { origin: FOREIGN_ORIGIN }), 403, 'foreign origin');
    assert.equal(await upgradeStatus(freshUrl, { origin: LISTED_ORIGIN }), 101, 'an ALLOWED_ORIGINS origin with a valid token');
  });

  test('POST /session refuses a foreign Origin (403) and accepts same-origin and listed ones', async () => {
    const foreign = await postSession(r.baseUrl, FOREIGN_ORIGIN);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error?.code, 'VW_ERR_ORIGIN');
    assert.equal(foreign.body.token, undefined);
    assert.equal((await postSession(r.baseUrl, r.baseUrl)).status, 200);
    assert.equal((await postSession(r.baseUrl, LISTED_ORIGIN)).status, 200);
  });
});
