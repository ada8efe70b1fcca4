/**
 * PCM callers on the socket-bridged backends: the fake browser (PCM16, mic at 16 kHz) ⇄ the real
 * gateway ⇄ each backend's fake. Gemini resamples both ways, Deepgram takes `linear16` at the
 * browser's own rate, ElevenLabs converts from the agent's `ulaw_8000`; in every case the player
 * holds at most its window and hears the whole answer, and nothing overflows.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../harness.js';
import { concat, silence, tone } from '../browser/audio.js';
import { connectFakeBrowser } from '../browser/session.js';
import { BACKENDS } from './backends.js';

const WINDOW_MS = 500;
const FRAME_MS = 20;
const ANSWER_MS = 5_000;

describe('browser callers on the socket-bridged backends', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const backend of BACKENDS.filter((b) => b.name !== 'openai-realtime')) {
    test(`${backend.name}: a 5 s answer at 5× reaches a PCM browser within its window`, async () => {
      const fake = await backend.start({ answerMs: ANSWER_MS, speedFactor: 5, detectionDelayMs: 100 });
      cleanups.push(() => fake.close());
      const gateway = await startGateway(fake.env, false);
      cleanups.push(() => gateway.close());
      const client = await connectFakeBrowser(gateway.baseUrl, { windowMs: WINDOW_MS });
      cleanups.push(() => client.close());
      await client.sendMic(concat([silence(16_000, 200), tone(16_000, 400, 300, 9000), silence(16_000, 700)]));
      await client.waitUntil(() => (client.playedByEpoch.get(0) ?? 0) >= ANSWER_MS - FRAME_MS - 10, ANSWER_MS + 10_000, 'the whole answer played');
      const { framesOverflow } = client.core.counters;
      console.log(`# ${backend.name} browser caller: played ${(client.playedByEpoch.get(0) ?? 0).toFixed(0)} ms, max buffered in player ${client.maxBufferedMs.toFixed(0)} ms (window ${WINDOW_MS}), overflow frames ${framesOverflow}`);
      assert.ok(client.maxBufferedMs <= WINDOW_MS + FRAME_MS, `player held ${client.maxBufferedMs} ms`);
      assert.equal(framesOverflow, 0);
      assert.equal(client.protocolErrors, 0);
      assert.deepEqual(client.errors, []);
    });
  }
});
