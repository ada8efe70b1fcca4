/**
 * Exact truncation at barge-in. Audio keeps playing at the caller while the `clear` crosses the
 * link, so what was heard is known only when the caller confirms the clear: the marker sent right
 * behind every `clear` (mark, checkpoint, notify; the browser's `played(epoch, 0)`) comes back once
 * the player is silent.
 *
 * Its echo and the earlier mark echoes travel the same uplink, so the position at the clear's
 * arrival is the interrupted epoch's estimate evaluated at the marker echo's arrival time: last
 * genuine echo position + (marker echo arrival − that echo's arrival), capped at what was sent
 * before the clear. The downlink's delay (however congested) cancels out.
 *
 * The uplink's delay cancels out too when the time between the two echoes is read on the caller's
 * own clock: carriers stream the caller's audio continuously in real time, in the same ordered
 * stream as the echoes, so the caller audio received before an echo dates it on the caller's clock
 * (to a frame), however late a lost segment made it arrive. That clock is used when the caller's
 * audio covered at least half the wall time between the echoes (a caller that streams only while
 * speaking falls back to the wall clock). No I/O and no timers here: the session holds one of
 * these per barge-in and settles it.
 */
import type { PlayoutTracker } from '../flow/playout-tracker.js';
import type { HeardPoint } from '../models/model.js';

/**
 * How a barge-in's truncation point was settled: `marker` (the caller's confirmation of the clear
 * arrived: the exact case), `deadline` (none within the deadline: the estimate at the deadline),
 * `superseded` (the model's next answer or another barge-in came first: the estimate then),
 * `nothing-sent` (nothing of the interrupted epoch was sent), `at-barge-in` (a model without
 * `heard()`: the estimate at the barge-in, as before).
 */
export type { TruncateSource } from './observer.js';

/** What the caller heard of the interrupted epoch at time `at`. */
export interface HeardAt {
  /** Position on the interrupted epoch's timeline (ms). */
  readonly heardMs: number;
  /** Last position the caller confirmed before the clear (ms). */
  readonly confirmedMs: number;
  /** The item playing there and how much of it was heard. */
  readonly heard: HeardPoint | undefined;
}

/** A played report as it arrived: position, wall time, and the caller's audio received before it (its clock). */
export interface EchoStamp {
  readonly epoch: number;
  readonly positionMs: number;
  readonly at: number;
  readonly callerMs: number;
}

/** The caller's audio must cover this share of the wall time between two echoes for its clock to be used. */
const CALLER_CLOCK_MIN_SHARE = 0.5;

/**
 * Evaluates a frozen epoch timeline at `at` (the arrival of the clear's confirmation). With the
 * last echo of the epoch and the caller's clock at `at`, the time since that echo is read on the
 * caller's clock when it ran; otherwise the timeline's own (wall-clock) estimate.
 */
export function heardAt(timeline: PlayoutTracker, at: number, echo?: EchoStamp, callerMs?: number): HeardAt {
  let heardMs = timeline.estimatePlayed(at);
  if (echo !== undefined && callerMs !== undefined) {
    const wallElapsed = Math.max(0, at - echo.at);
    const callerElapsed = Math.max(0, callerMs - echo.callerMs);
    if (callerElapsed >= CALLER_CLOCK_MIN_SHARE * wallElapsed) {
      heardMs = Math.max(timeline.playedMs, Math.min(timeline.sentMs, echo.positionMs + callerElapsed));
    }
  }
  const playing = timeline.sentMs > 0 ? timeline.itemAt(heardMs) : undefined;
  return {
    heardMs,
    confirmedMs: timeline.playedMs,
    heard: playing && { itemId: playing.itemId, audioEndMs: timeline.playedOfItem(playing.itemId, heardMs) },
  };
}

/** One barge-in waiting for the caller to confirm its clear. */
export class PendingTruncation {
  constructor(
    /** The epoch the clear started: a played report of it (or later) confirms the clear. */
    readonly epoch: number,
    readonly timeline: PlayoutTracker,
    /** When the barge-in happened (the session's clock). */
    readonly startedAt: number,
    /** Audio the barge-in dropped from the gateway (ms). */
    readonly droppedMs: number,
    /** The estimate at the barge-in (what the truncation used to be). */
    readonly estimateAtBargeInMs: number,
    /** The last played report of the interrupted epoch, if any. */
    readonly lastEcho: EchoStamp | undefined,
  ) {}

  /** True when a played report of `epoch` confirms this clear. */
  confirmedBy(epoch: number): boolean {
    return epoch >= this.epoch;
  }

  /** The truncation point if settled at `at`; `callerMs` (the caller's clock then) when the clear's confirmation arrived. */
  settle(at: number, callerMs?: number): HeardAt {
    return heardAt(this.timeline, at, this.lastEcho, callerMs);
  }
}
