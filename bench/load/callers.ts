/**
 * The load of the load bench, in the parent process: N fake Twilio callers (test/fakes) that
 * connect, ask one question each (a tone the fake model's VAD hears), then play what they get in
 * real time and echo marks; and what they experienced over the measurement window.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeTwilioCaller, toneSamples, type FakeTwilioCallerOptions } from '../../test/fakes/twilio-caller.js';

/** Connections opened at once while ramping up (a burst of N upgrades would measure the ramp). */
const CONNECT_BATCH = 10;
/** Length of the question each caller asks; the fake model answers after 500 ms of silence. */
const QUESTION_MS = 400;

const CALLER_OPTIONS: FakeTwilioCallerOptions = {
  connectTimeoutMs: 10_000,
  // The bench reads counters, not logs: small rings keep the parent light with many callers.
  logCap: 2_000,
  playedAudioCap: 8_000,
};

/** What the callers experienced during the window, added up over all of them. */
export interface CallerTotals {
  readonly calls: number;
  /** Dry periods (buffer drained while playing) that began inside the window, all calls. */
  readonly underruns: number;
  /** Their total length inside the window, ms. */
  readonly underrunMs: number;
  /** Calls with at least one underrun. */
  readonly callsWithUnderruns: number;
  /** Largest audio buffered at any caller, ms (Twilio's buffer, i.e. what a barge-in must clear). */
  readonly maxBufferedMs: number;
  /** Median over calls of each call's largest buffer, ms. */
  readonly medianMaxBufferedMs: number;
  /** Mean audio played per call during the window, ms. */
  readonly meanPlayedMs: number;
  /** Calls that played nothing: the answer never came (the server failed them). */
  readonly silentCalls: number;
  /** Twilio protocol violations the callers saw (should be 0). */
  readonly violations: number;
  /** Calls closed before the end of the window. */
  readonly closedEarly: number;
  /** Messages (media, mark, clear) each call received per second of window, mean over calls. */
  readonly messagesPerCallSecond: number;
}

/** Where each caller stood when the window opened. */
export interface CallerMark {
  readonly playedMs: number;
  readonly received: number;
}

export function markCallers(callers: readonly FakeTwilioCaller[]): CallerMark[] {
  return callers.map((caller) => ({ playedMs: caller.playedMs, received: caller.received.total }));
}

/** Connects `count` callers to `url`, `CONNECT_BATCH` at a time. */
export async function connectCallers(url: string, count: number): Promise<FakeTwilioCaller[]> {
  const callers: FakeTwilioCaller[] = [];
  try {
    for (let first = 0; first < count; first += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, count - first);
      callers.push(...(await Promise.all(Array.from({ length: batch }, () => FakeTwilioCaller.connect(url, CALLER_OPTIONS)))));
    }
  } catch (err) {
    for (const caller of callers) caller.terminate();
    throw err;
  }
  return callers;
}

/**
 * Every caller asks its question, their starts spread evenly over `spreadMs` (real calls are not in
 * lock-step). Resolves when the last question has been spoken.
 */
export async function askQuestions(callers: readonly FakeTwilioCaller[], spreadMs: number): Promise<void> {
  const question = toneSamples(QUESTION_MS);
  const step = callers.length > 1 ? spreadMs / (callers.length - 1) : 0;
  await Promise.all(
    callers.map(async (caller, i) => {
      await sleep(i * step);
      await caller.sendSpeech(question);
    }),
  );
}

/** Hangs every caller up (stop + close), each within its own deadline. */
export async function hangUp(callers: readonly FakeTwilioCaller[]): Promise<void> {
  await Promise.all(callers.map((caller) => caller.stop(2_000)));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * What the callers experienced between `windowStart` and `windowEnd` (performance.now() of this
 * process). Each caller keeps its own clock, so the window is moved onto it first.
 */
export function summarizeCallers(callers: readonly FakeTwilioCaller[], windowStart: number, atStart: readonly CallerMark[], windowEnd: number): CallerTotals {
  let underruns = 0;
  let underrunMs = 0;
  let callsWithUnderruns = 0;
  let played = 0;
  let silentCalls = 0;
  let violations = 0;
  let closedEarly = 0;
  let received = 0;
  const maxBuffered: number[] = [];
  callers.forEach((caller, i) => {
    const offset = performance.now() - caller.now();
    const start = windowStart - offset;
    const end = windowEnd - offset;
    const dry = caller.underruns.filter((d) => d.start >= start && d.start < end);
    underruns += dry.length;
    underrunMs += dry.reduce((sum, d) => sum + Math.min(d.end ?? end, end) - d.start, 0);
    if (dry.length > 0) callsWithUnderruns++;
    const playedMs = caller.playedMs - (atStart[i]?.playedMs ?? 0);
    received += caller.received.total - (atStart[i]?.received ?? 0);
    played += playedMs;
    if (playedMs === 0) silentCalls++;
    violations += caller.violations.total;
    if (caller.closeInfo !== undefined && caller.closeInfo.at < end) closedEarly++;
    maxBuffered.push(caller.maxBufferedMs);
  });
  return {
    calls: callers.length,
    underruns,
    underrunMs,
    callsWithUnderruns,
    maxBufferedMs: Math.max(0, ...maxBuffered),
    medianMaxBufferedMs: median(maxBuffered),
    meanPlayedMs: callers.length > 0 ? played / callers.length : 0,
    silentCalls,
    violations,
    closedEarly,
    messagesPerCallSecond: callers.length > 0 ? received / callers.length / ((windowEnd - windowStart) / 1000) : 0,
  };
}
