/**
 * Vonage end to end on loopback: fake Vonage caller ⇄ real gateway ⇄ fake OpenAI Realtime server.
 * L16 goes through the resampler (16 or 8 kHz ⇄ PCM16 24 kHz); credit comes from notify →
 * websocket:notify; barge-in sends clear. The caller's buffer must stay within the credit window +
 * one frame with no underrun while the model speaks 5× faster than real time, and a barge-in must
 * drop, flush, cancel and truncate at what the caller heard, whether Vonage echoes the notifies a
 * clear dropped or not.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { FakeVonageCaller, type FakeVonageCallerOptions } from '../fakes/vonage-caller.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
const DETECTION_DELAY_MS = 100;

/**
 * Each underrun, measured: when it began (ms after the first audio), how long it lasted, how long
 * before it the last message had arrived and what the caller held then, and any stall of this
 * process (the frame clock firing late) in the 1 s before it: a stall the size of what was held is
 * the machine starving the process, silence from the gateway without one is a flow fault.
 */
function describeUnderruns(caller: FakeVonageCaller): Array<Record<string, number | string>> {
  const received = caller.received.toArray();
  const firstAudio = received.find((e) => e.event === 'audio')?.at ?? 0;
  const stalls = caller.stalls.toArray();
  return caller.underruns.map((u) => {
    const last = received.filter((e) => e.at <= u.start).at(-1);
    const near = stalls.filter((s) => s.at <= u.start && s.at + s.lateMs >= u.start - 1000);
    return {
      atMs: Math.round(u.start - firstAudio),
      lastedMs: Math.round((u.end ?? caller.now()) - u.start),
      lastMessageAgoMs: Math.round(u.start - (last?.at ?? 0)),
      bufferedThenMs: Math.round(last?.bufferedMs ?? 0),
      stalls: near.map((s) => `${Math.round(s.at - firstAudio)}+${Math.round(s.lateMs)}`).join(' '),
    };
  });
}

/**
 * The least audio the caller still held when more arrived (the margin against an underrun), and
 * when (ms after the first audio). Frames of one send (< 2 ms apart) count as one arrival.
 */
function leastMargin(caller: FakeVonageCaller): { heldMs: number; atMs: number } {
  const audio = caller.received.toArray().filter((e) => e.event === 'audio');
  let least = { heldMs: Infinity, atMs: 0 };
  for (let i = 1; i < audio.length; i++) {
    if (audio[i]!.at - audio[i - 1]!.at < 2) continue;
    const held = Math.max(0, audio[i - 1]!.bufferedMs - (audio[i]!.at - audio[i - 1]!.at));
    if (held < least.heldMs) least = { heldMs: Math.round(held), atMs: Math.round(audio[i]!.at - audio[0]!.at) };
  }
  return least;
}

describe('Vonage ⇄ Realtime through the gateway', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  const callers: FakeVonageCaller[] = [];
  after(async () => {
    for (const c of callers) c.terminate();
    for (const r of running) await r.close();
  });

  async function call(r: RunningGateway, options: FakeVonageCallerOptions = {}): Promise<FakeVonageCaller> {
    const caller = await FakeVonageCaller.connect(`${r.baseUrl.replace('http', 'ws')}/vonage/media`, options);
    callers.push(caller);
    return caller;
  }

  for (const rate of [16000, 8000] as const) {
    test(`L16 ${rate / 1000} kHz: a 20 s answer at 5× real time stays within the window + one frame with no underrun`, async () => {
      const r = await startGateway({}, { answerMs: 20_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS });
      running.push(r);
      const caller = await call(r, { rate });
      await caller.speak8k(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 20_000, 40_000, '20 s played');
      const max = caller.maxBufferedMs;
      const underruns = caller.underrunsWhileSpeaking();
      console.log(`# vonage ${rate} 20 s answer: max buffered at caller ${max.toFixed(0)} ms (window ${WINDOW_MS}), underruns while speaking ${underruns}`);
      const stall = caller.clockStall;
      const margin = leastMargin(caller);
      const measured = `least held when audio arrived ${margin.heldMs} ms (at ${margin.atMs} ms); process stalled at most ${stall.maxLateMs.toFixed(0)} ms; underruns ${JSON.stringify(describeUnderruns(caller))}`;
      console.log(`# vonage ${rate} 20 s answer: ${measured}`);
      assert.ok(max <= WINDOW_MS + FRAME_MS, `caller buffered ${max} ms`);
      assert.ok(max >= WINDOW_MS - 4 * FRAME_MS, `the window is used (${max} ms)`);
      assert.equal(underruns, 0, measured);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  for (const onClear of ['drop', 'notify-after-cleared'] as const) {
    test(`barge-in 3 s into an answer (flushed notifies: ${onClear}): clear, cancel, stale audio and truncate bounded`, async () => {
      const r = await startGateway({}, { answerMs: 20_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS, interruptResponse: false });
      running.push(r);
      const model = r.model!;
      const caller = await call(r, { onClear });
      await caller.speak8k(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 3_000, 10_000, '3 s played');
      const speechStartsAt = caller.now();
      const speaking = caller.speak8k(toneSamples(1_000));
      await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'clear');
      await model.waitFor(() => model.truncates.length >= 1, 'truncate', 5_000);
      const staleMs = caller.heardSince(speechStartsAt);
      const truncate = model.truncates[0]!;
      const truncateErrorMs = Math.abs(truncate.audioEndMs - caller.playedMs);
      console.log(`# vonage barge-in (${onClear}): stale audio ${staleMs.toFixed(0)} ms, truncate ${truncate.audioEndMs} ms vs played ${caller.playedMs.toFixed(0)} ms (error ${truncateErrorMs.toFixed(0)} ms), cancels ${model.cancels.length}`);
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
