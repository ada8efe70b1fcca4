/**
 * Caller side of one netimpair bench run, in the client namespace:
 * `netimpair exec client -- node --import tsx bench/netimpair/caller.ts <ws-url> <options-json>`.
 *
 * One fake Twilio call: a question, its answer played until `bargeInAtMs` of it, then the caller
 * speaks over it. Measured on the caller's own clock, which is the truth the gateway is judged by:
 * underruns while the answer played, what had played when the `clear` arrived (the reference for
 * the truncate error), stale audio heard after the caller began speaking, and whether the next
 * answer came. Prints one `{"type":"result",…}` line (BenchCallerResult), then hangs up.
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
}

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
  const interrupting = caller.sendSpeech(toneSamples(speechMs));
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
    await caller.waitUntil(() => caller.playedMs > playedAtClear, 20_000, 'the next answer');
    nextAnswerAfterMs = caller.now() - clear.at;
  } catch {
    nextAnswerAfterMs = undefined;
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
  };
  emit(result as unknown as Record<string, unknown>);
  await caller.stop();
}

runChild('bench caller', main, 110_000);
