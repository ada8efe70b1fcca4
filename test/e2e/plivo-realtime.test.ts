/**
 * Plivo end to end on loopback: fake Plivo caller ⇄ real gateway ⇄ fake OpenAI Realtime server.
 * Credit comes from checkpoint → playedStream; barge-in sends clearAudio. The caller's buffer must
 * stay within the credit window + one frame with no underrun while the model speaks 5× faster than
 * real time, and a barge-in must drop, flush, cancel and truncate at what the caller heard — with
 * Plivo dropping the flushed checkpoints silently (its documented behaviour) or acknowledging them.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { FakePlivoCaller, type FakePlivoCallerOptions } from '../fakes/plivo-caller.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
const DETECTION_DELAY_MS = 100;

async function call(r: RunningGateway, options: FakePlivoCallerOptions = {}): Promise<FakePlivoCaller> {
  return FakePlivoCaller.connect(`${r.baseUrl.replace('http', 'ws')}/plivo/media`, options);
}

describe('Plivo ⇄ Realtime through the gateway', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  const callers: FakePlivoCaller[] = [];
  after(async () => {
    for (const c of callers) c.terminate();
    for (const r of running) await r.close();
  });

  for (const format of ['mulaw-8000', 'l16-16000'] as const) {
    test(`${format}: a 20 s answer at 5× real time stays within the window + one frame with no underrun`, async () => {
      const r = await startGateway({}, { answerMs: 20_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS });
      running.push(r);
      const caller = await call(r, { format });
      callers.push(caller);
      await caller.speak8k(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 20_000, 40_000, '20 s played');
      const max = caller.maxBufferedMs;
      const underruns = caller.underrunsWhileSpeaking();
      const update = r.model!.log.sessionUpdates.at(-1) as { audio?: { output?: { format?: unknown } } } | undefined;
      console.log(`# plivo ${format} 20 s answer: max buffered at caller ${max.toFixed(0)} ms (window ${WINDOW_MS}), underruns while speaking ${underruns}, model wire ${JSON.stringify(update?.audio?.output?.format)}`);
      assert.ok(max <= WINDOW_MS + FRAME_MS, `caller buffered ${max} ms`);
      assert.ok(max >= WINDOW_MS - 4 * FRAME_MS, `the window is used (${max} ms)`);
      assert.equal(underruns, 0);
      // μ-law passes through to a μ-law model; L16 16 kHz goes through the resampler to PCM16 24 kHz.
      assert.deepEqual(update?.audio?.output?.format, format === 'mulaw-8000' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 24000 });
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  for (const onClear of ['drop', 'ack-after-cleared'] as const) {
    test(`barge-in 3 s into an answer (flushed checkpoints: ${onClear}): clearAudio, cancel, stale audio and truncate bounded`, async () => {
      const r = await startGateway({}, { answerMs: 20_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS, interruptResponse: false });
      running.push(r);
      const model = r.model!;
      const caller = await call(r, { onClear });
      callers.push(caller);
      await caller.speak8k(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 3_000, 10_000, '3 s played');
      const speechStartsAt = caller.now();
      const speaking = caller.speak8k(toneSamples(1_000));
      await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'clearAudio');
      await model.waitFor(() => model.truncates.length >= 1, 'truncate', 5_000);
      const staleMs = caller.heardSince(speechStartsAt);
      const truncate = model.truncates[0]!;
      const truncateErrorMs = Math.abs(truncate.audioEndMs - caller.playedMs);
      console.log(`# plivo barge-in (${onClear}): stale audio ${staleMs.toFixed(0)} ms, truncate ${truncate.audioEndMs} ms vs played ${caller.playedMs.toFixed(0)} ms (error ${truncateErrorMs.toFixed(0)} ms), cancels ${model.cancels.length}`);
      assert.ok(staleMs <= DETECTION_DELAY_MS + 40, `stale audio heard after speech began: ${staleMs} ms`);
      assert.ok(truncateErrorMs <= 40, `truncate error ${truncateErrorMs} ms`);
      assert.equal(truncate.ok, true);
      assert.equal(model.cancels.length, 1);
      assert.equal(model.cancels[0]!.active, true);
      await speaking;
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }
});
