/**
 * Every carrier's routes get the fleet's guarantees, not only Twilio's: a media stream that never
 * sends its start is closed with 4020 within START_TIMEOUT_MS, and the carriers' GET answer
 * webhooks are call routes (503 while draining, like the POST webhooks).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startGateway, type RunningGateway } from '../e2e/harness.js';

const running: RunningGateway[] = [];
after(async () => {
  for (const r of running) await r.close();
});

const MEDIA_PATHS = ['/twilio/media', '/telnyx/media', '/signalwire/media', '/exotel/media', '/plivo/media', '/vonage/media'];
const GET_WEBHOOKS = ['/plivo/answer', '/vonage/answer', '/exotel/url'];

describe('carrier routes under the fleet rules', { concurrency: false }, () => {
  // The test's own deadline: a path without the start timeout fails instead of hanging the run.
  test('a stream that never sends its start is closed with 4020 on every carrier path', { timeout: 10_000 }, async () => {
    const r = await startGateway({ START_TIMEOUT_MS: '300' }, { answerMs: 1_000 });
    running.push(r);
    const closes = await Promise.all(
      MEDIA_PATHS.map(async (path) => {
        const ws = new WebSocket(`ws://127.0.0.1:${r.gateway.port}${path}`);
        await once(ws, 'open');
        const [code] = (await once(ws, 'close')) as [number, Buffer];
        return [path, code];
      }),
    );
    assert.deepEqual(closes, MEDIA_PATHS.map((path) => [path, 4020]));
  });

  test('while draining, the carriers GET webhooks answer 503 VW_ERR_DRAINING', async () => {
    const r = await startGateway({}, { answerMs: 1_000 });
    running.push(r);
    for (const path of GET_WEBHOOKS) assert.equal((await fetch(`${r.baseUrl}${path}`)).status, 200, path);
    const caller = await r.call(); // a live call keeps the drain (and the listener) going
    await caller.waitUntil(() => caller.framesSent > 5, 5_000, 'the call to run');
    const draining = r.gateway.drain(60_000);
    const answers = await Promise.all(
      GET_WEBHOOKS.map(async (path) => {
        const res = await fetch(`${r.baseUrl}${path}`);
        return [path, res.status, ((await res.json()) as { error: { code: string } }).error.code];
      }),
    );
    assert.deepEqual(answers, GET_WEBHOOKS.map((path) => [path, 503, 'VW_ERR_DRAINING']));
    await caller.stop();
    await draining;
  });
});
