/**
 * Issue 4, end to end on loopback: fake Twilio caller ⇄ real gateway ⇄ fake OpenAI Realtime server.
 * The fake model answers 5–10× faster than real time; the gateway must keep the caller's buffer
 * within the credit window, never starve it while the model speaks, and on barge-in drop, clear,
 * cancel and truncate at what the caller actually heard.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples, type FakeTwilioCaller } from '../fakes/twilio-caller.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
const DETECTION_DELAY_MS = 100;

/** Speaks a short phrase so the fake model's server VAD commits a turn and answers. */
async function askQuestion(caller: FakeTwilioCaller): Promise<void> {
  await caller.sendSpeech(toneSamples(400));
}

function lastMediaAt(caller: FakeTwilioCaller): number {
  const media = caller.received.toArray().filter((r) => r.event === 'media');
  return media.at(-1)?.at ?? 0;
}

/** Underruns that began while the model still had audio on its way (before the last media arrived). */
function underrunsWhileSpeaking(caller: FakeTwilioCaller): number {
  const last = lastMediaAt(caller);
  return caller.underruns.filter((u) => u.start < last).length;
}

describe('Twilio ⇄ Realtime through the gateway', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  after(async () => {
    for (const r of running) await r.close();
  });

  test('with OPENAI_AUDIO_FORMAT=pcm24k the model speaks PCM16 24 kHz and the caller still gets paced μ-law', async () => {
    const r = await startGateway({ OPENAI_AUDIO_FORMAT: 'pcm24k' }, { answerMs: 5_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS });
    running.push(r);
    const caller = await r.call();
    await askQuestion(caller);
    await caller.waitUntil(() => caller.playedMs >= 4_900, 15_000);
    // The fake records each session.update's `session` object.
    const session = r.model!.log.sessionUpdates.at(-1) as { audio?: { input?: { format?: unknown }; output?: { format?: unknown } } } | undefined;
    assert.deepEqual(session?.audio?.output?.format, { type: 'audio/pcm', rate: 24000 });
    assert.deepEqual(session?.audio?.input?.format, { type: 'audio/pcm', rate: 24000 });
    assert.ok(caller.maxBufferedMs <= WINDOW_MS + FRAME_MS, `caller buffered ${caller.maxBufferedMs} ms`);
    assert.equal(underrunsWhileSpeaking(caller), 0);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  test('LOCAL_BARGE_IN_MS=40: the gateway clears the caller on its own VAD before the model hears the caller; the model\'s speech start confirms it and the answer is cancelled', async () => {
    // 10 s at 3× takes 3.3 s: still generating at the barge-in, so the gateway cancels it.
    const r = await startGateway({ LOCAL_BARGE_IN_MS: '40' }, { answerMs: 10_000, speedFactor: 3, detectionDelayMs: DETECTION_DELAY_MS });
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await askQuestion(caller);
    await caller.waitUntil(() => caller.playedMs >= 2_000, 10_000);
    const speaking = caller.sendSpeech(toneSamples(1_000));
    await caller.waitUntil(() => caller.clears.length >= 1, 5_000);
    const clearedAt = caller.clears.last()!.at + (performance.now() - caller.now()); // on performance.now(), the fake model's clock
    const heardAtClearMs = caller.playedMs - caller.heardSince(caller.clears.last()!.at);
    await model.waitFor(() => model.log.speechStartedAt.length >= 2 && model.truncates.length >= 1, 'the model\'s VAD and the truncate', 5_000);
    // The clear reached the caller before the model's VAD had its 100 ms; the answer was held, not
    // cancelled, until the model's speech start confirmed the caller speaks.
    assert.ok(clearedAt < model.log.speechStartedAt[1]!.at, 'the caller was cleared before the model heard it');
    assert.equal(model.cancels.length, 1);
    assert.ok(model.cancels[0]!.at >= model.log.speechStartedAt[1]!.at, 'the answer was cancelled on the model\'s confirmation');
    assert.equal(model.truncates[0]!.ok, true);
    assert.ok(Math.abs(model.truncates[0]!.audioEndMs - heardAtClearMs) <= 40, `truncate ${model.truncates[0]!.audioEndMs} ms, heard ${heardAtClearMs} ms`);
    // The next answer's audio came down the model socket after its speech start: handled by now.
    const playedAtClear = caller.playedMs;
    await caller.waitUntil(() => caller.playedMs > playedAtClear, 10_000, 'the next answer');
    assert.equal(caller.clears.length, 1, 'the model\'s speech start did not clear the caller again');
    const local = (await r.gateway.context.metrics.localBargeIns.get()).values.map((v) => [v.labels.confirmed, v.value]);
    assert.deepEqual(local, [['true', 1]]);
    await speaking;
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  test('LOCAL_BARGE_IN_MS=40, a 60 ms click the model does not call speech: the caller is cleared, then hears the rest of the answer from where it stopped', async () => {
    // 6 s at 3× takes 2 s: still generating at the click; the fake's VAD wants 100 ms, the click has 60.
    const answerMs = 6_000;
    const r = await startGateway({ LOCAL_BARGE_IN_MS: '40', LOCAL_BARGE_IN_HOLD_MS: '500' }, { answerMs, speedFactor: 3, detectionDelayMs: DETECTION_DELAY_MS });
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await askQuestion(caller);
    await caller.waitUntil(() => caller.playedMs >= 1_500, 10_000);
    await caller.sendSpeech(toneSamples(60));
    await caller.waitUntil(() => caller.clears.length >= 1, 5_000);
    const playedAtClear = caller.playedMs;
    await caller.waitUntil(() => caller.playedMs > playedAtClear, 5_000, 'the answer resumes');
    await model.waitFor(() => model.log.responses.length >= 1, 'the answer generated to its end', 10_000);
    await caller.waitUntil(() => caller.playedMs >= answerMs - 40 && caller.bufferedMs === 0, 15_000, 'the answer played out');
    console.log(`# false start: played ${caller.playedMs.toFixed(1)} ms of a ${answerMs} ms answer`);
    // Heard once: the replay starts where the caller's confirmation of the clear says it stopped
    // (a repeat or a gap would show as more or less than the answer).
    assert.ok(Math.abs(caller.playedMs - answerMs) <= 40, `played ${caller.playedMs} ms of a ${answerMs} ms answer`);
    assert.equal(caller.clears.length, 1);
    assert.equal(model.log.speechStartedAt.length, 1, 'the model heard the question only');
    assert.equal(model.cancels.length, 0);
    assert.equal(model.truncates.length, 0);
    const local = (await r.gateway.context.metrics.localBargeIns.get()).values.map((v) => [v.labels.confirmed, v.value]);
    assert.deepEqual(local, [['false', 1]]);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  // The 20 s answer and the barge-in while the model is still generating run for every transport
  // in the conformance suite (test/e2e/conformance/); this is the case the suite does not cover.
  test('barge-in 3 s into an answer after the model finished: clear, no cancel, stale audio and truncate bounded', async () => {
    // 10 s at 10× takes 1 s: everything was generated (and queued) before the barge-in.
    const r = await startGateway({}, { answerMs: 10_000, speedFactor: 10, detectionDelayMs: DETECTION_DELAY_MS, interruptResponse: false });
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await askQuestion(caller);
    await caller.waitUntil(() => caller.playedMs >= 3_000, 10_000);
    const responsesDone = model.log.responses.length; // recorded at response.done
    const speechStartsAt = caller.now();
    const speaking = caller.sendSpeech(toneSamples(1_000));
    await caller.waitUntil(() => caller.clears.length >= 1, 5_000);
    await model.waitFor(() => model.truncates.length >= 1, 'truncate', 5_000);
    const staleMs = caller.heardSince(speechStartsAt);
    const truncate = model.truncates[0]!;
    const truncateErrorMs = Math.abs(truncate.audioEndMs - caller.playedMs);
    console.log(`# barge-in after the model finished: stale audio ${staleMs.toFixed(0)} ms, truncate ${truncate.audioEndMs} ms vs played ${caller.playedMs.toFixed(0)} ms (error ${truncateErrorMs.toFixed(0)} ms), cancels ${model.cancels.length}`);
    assert.ok(staleMs <= DETECTION_DELAY_MS + 40, `stale audio heard after speech began: ${staleMs} ms`);
    assert.ok(truncateErrorMs <= 40, `truncate error ${truncateErrorMs} ms`);
    assert.equal(truncate.ok, true, 'the model accepted the truncation point');
    assert.ok(responsesDone >= 1, 'the answer had finished before barge-in');
    assert.equal(model.cancels.length, 0, 'no response.cancel when no response is active');
    await speaking;
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });
});
