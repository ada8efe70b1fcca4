/**
 * What the load generator's callers (lean-caller.ts) experienced over the measurement window, added
 * up over all of them. Runs in the generator process, on its clock.
 */
import type { LeanCaller } from './lean-caller.js';

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

/** Where each caller stands at `now` (each player advanced to `now` first: ticks advance them lazily). */
export function markCallers(callers: readonly LeanCaller[], now: number): CallerMark[] {
  return callers.map((caller) => {
    caller.player.advance(now);
    return { playedMs: caller.player.playedMs, received: caller.received };
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What the callers experienced between `windowStart` and `windowEnd` (performance.now() of this process). */
export function summarizeCallers(callers: readonly LeanCaller[], windowStart: number, atStart: readonly CallerMark[], windowEnd: number): CallerTotals {
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
    caller.player.advance(windowEnd);
    const dry = caller.dryPeriods.filter((d) => d.start >= windowStart && d.start < windowEnd);
    underruns += dry.length;
    underrunMs += dry.reduce((sum, d) => sum + Math.min(d.end ?? windowEnd, windowEnd) - d.start, 0);
    if (dry.length > 0) callsWithUnderruns++;
    const playedMs = caller.player.playedMs - (atStart[i]?.playedMs ?? 0);
    received += caller.received - (atStart[i]?.received ?? 0);
    played += playedMs;
    if (playedMs === 0) silentCalls++;
    violations += caller.violations;
    if (caller.closedAt !== undefined && caller.closedAt < windowEnd) closedEarly++;
    maxBuffered.push(caller.maxBufferedMs);
  });
  return {
    calls: callers.length,
    underruns,
    underrunMs,
    callsWithUnderruns,
    maxBufferedMs: maxBuffered.reduce((a, b) => Math.max(a, b), 0),
    medianMaxBufferedMs: median(maxBuffered),
    meanPlayedMs: callers.length > 0 ? played / callers.length : 0,
    silentCalls,
    violations,
    closedEarly,
    messagesPerCallSecond: callers.length > 0 ? received / callers.length / ((windowEnd - windowStart) / 1000) : 0,
  };
}
