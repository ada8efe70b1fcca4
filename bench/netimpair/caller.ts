/**
 * Caller side of one netimpair bench run, in the client namespace:
 * `netimpair exec client -- node --import tsx bench/netimpair/caller.ts <ws-url> <options-json>`.
 *
 * One fake Twilio call: a question, its answer played until `bargeInAtMs` of it, then the caller
 * speaks over it. Measured on the caller's own clock, which is the truth the gateway is judged by:
 * underruns while the answer played, what had played when the `clear` arrived (the reference for
 * the truncate error), stale audio heard after the caller began speaking, and whether the next
 * answer came. Prints one `{"type":"result",…}` line (BenchCallerResult), then hangs up.
 *
 * With `clickMs` the caller makes a click instead (a tone shorter than the model's VAD wants): with
 * LOCAL_BARGE_IN_MS the gateway clears the caller on it and, the model hearing no speech, resumes
 * the answer; the result then says how long the caller heard nothing and how far the seam is off
 * (the whole answer played, minus its length: a repeat is positive, a skip negative).
 */
import { performance } from 'node:perf_hooks';
import { FakeTwilioCaller, toneSamples } from '../../test/fakes/twilio-caller.js';
import type { BenchCallerResult } from './report.js';
import { emit, runChild } from '../../test/e2e/netimpair/child-main.js';

interface Options {
  /** Answer audio played before the caller barges in (ms). */
  readonly bargeInAtMs: number;
  /** How long the caller speaks over it (ms). */
  readonly speechMs: number;
  /** A click of this many ms instead of speech, and the answer's length: a false start (see above). */
  readonly clickMs?: number;
  readonly answerMs?: number;
}

/** After the answer resumed: it played out when nothing is buffered and nothing has arrived for this long. */
const PLAYED_OUT_QUIET_MS = 1_000;

const DEADLINE_MS = 60_000;

async function main(): Promise<void> {
  const url = process.argv[2];
  if (url === undefined) throw new Error('usage: caller.ts <ws-url> <options-json>');
  const options = JSON.parse(process.argv[3] ?? '{}') as Partial<Options>;
  const bargeInAtMs = options.bargeInAtMs ?? 10_000;
  const speechMs = options.speechMs ?? 1_000;
  // A lost SYN costs a 1 s retransmission timeout: connecting gets a generous deadline.
  const caller = await FakeTwilioCaller.connect(url, { connectTimeoutMs: 15_000 });

  // The caller's clock on the machine's wall clock (comparable with the gateway's stamps).
  const wallOffset = performance.timeOrigin + performance.now() - caller.now();
  const askedAt = caller.now();
  await caller.sendSpeech(toneSamples(400));
  await caller.waitUntil(() => caller.playedMs > 0, 20_000, 'the answer began playing');
  const firstAudioAt = caller.now();
  await caller.waitUntil(() => caller.playedMs >= bargeInAtMs, DEADLINE_MS, `${bargeInAtMs} ms of the answer played`);

  // The answer is still streaming: every dry period so far is an underrun.
  const speechStartsAt = caller.now();
  const underruns = caller.underruns.filter((u) => u.start >= firstAudioAt && u.start < speechStartsAt);
  const lengths = underruns.map((u) => (u.end ?? speechStartsAt) - u.start);
  const playedAtSpeechMs = caller.playedMs;
  const clearsBefore = caller.clears.total;
  const interrupting = caller.sendSpeech(toneSamples(options.clickMs ?? speechMs));
  await caller.waitUntil(() => caller.clears.total > clearsBefore, 15_000, 'the clear');
  const clear = caller.clears.last()!;
  // Nothing plays after the clear until the next answer (which waits for the truncate): what had
  // played when the clear arrived is all played audio minus what played after that moment.
  const heardAtClearMs = caller.playedMs - caller.heardSince(clear.at);
  const staleMs = caller.heardSince(speechStartsAt) - caller.heardSince(clear.at);
  await interrupting;
  const playedAtClear = caller.playedMs;
  let nextAnswerAfterMs: number | undefined;
  try {
    await caller.waitUntil(() => caller.playedMs > playedAtClear, 20_000, options.clickMs === undefined ? 'the next answer' : 'the answer resumed');
    nextAnswerAfterMs = caller.now() - clear.at;
  } catch {
    nextAnswerAfterMs = undefined;
  }
  let resume: BenchCallerResult['resume'];
  if (options.clickMs !== undefined && nextAnswerAfterMs !== undefined) {
    const resumedAt = caller.now();
    let seen = caller.received.total;
    let lastMessageAt = resumedAt;
    await caller.waitUntil(() => {
      if (caller.received.total !== seen) {
        seen = caller.received.total;
        lastMessageAt = caller.now();
      }
      return caller.bufferedMs === 0 && caller.now() - lastMessageAt > PLAYED_OUT_QUIET_MS;
    }, DEADLINE_MS, 'the resumed answer played out');
    const after = caller.underruns.filter((u) => u.start > resumedAt && u.start < lastMessageAt);
    resume = {
      gapMs: nextAnswerAfterMs,
      seamMs: caller.playedMs - (options.answerMs ?? 0),
      underruns: after.length,
      longestUnderrunMs: Math.max(0, ...after.map((u) => (u.end ?? lastMessageAt) - u.start)),
    };
  }
  const result: BenchCallerResult = {
    type: 'result',
    firstAudioMs: firstAudioAt - askedAt,
    underruns: underruns.length,
    underrunMs: lengths.reduce((a, b) => a + b, 0),
    longestUnderrunMs: Math.max(0, ...lengths),
    underrunsAtMs: underruns.map((u) => Math.round(u.start - firstAudioAt)),
    maxBufferedMs: caller.maxBufferedMs,
    playedAtSpeechMs,
    heardAtClearMs,
    staleMs,
    clearAfterMs: clear.at - speechStartsAt,
    clearedMs: clear.droppedMs,
    nextAnswerAfterMs: nextAnswerAfterMs ?? null,
    violations: caller.violations.toArray().map((v) => `${v.kind}: ${v.detail}`),
    speechStartsAtWall: wallOffset + speechStartsAt,
    clearAtWall: wallOffset + clear.at,
    maxTickLateMs: caller.clockStall.maxLateMs,
    ...(resume === undefined ? {} : { resume }),
  };
  emit(result as unknown as Record<string, unknown>);
  await caller.stop();
}

runChild('bench caller', main, 110_000);
