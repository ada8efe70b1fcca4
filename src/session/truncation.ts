/**
 * Exact truncation at barge-in. Audio keeps playing at the caller while the `clear` crosses the
 * link, so what was heard is known only when the caller confirms the clear: the marker sent right
 * behind every `clear` (mark, checkpoint, notify; the browser's `played(epoch, 0)`) comes back once
 * the player is silent.
 *
 * Its echo and the earlier mark echoes travel the same uplink, so the position at the clear's
 * arrival is the interrupted epoch's estimate evaluated at the marker echo's arrival time: last
 * genuine echo position + (marker echo arrival − that echo's arrival), capped at what was sent
 * before the clear. The downlink's delay (however congested) cancels out. No I/O and no timers
 * here: the session holds one of these per barge-in and settles it.
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

/** Evaluates a frozen epoch timeline at `at` (the arrival of the clear's confirmation). */
export function heardAt(timeline: PlayoutTracker, at: number): HeardAt {
  const heardMs = timeline.estimatePlayed(at);
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
  ) {}

  /** True when a played report of `epoch` confirms this clear. */
  confirmedBy(epoch: number): boolean {
    return epoch >= this.epoch;
  }

  /** The truncation point if settled at `at`. */
  settle(at: number): HeardAt {
    return heardAt(this.timeline, at);
  }
}
