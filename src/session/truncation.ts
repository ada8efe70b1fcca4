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
 * (to a frame), however late a lost segment made it arrive. That clock is used when the caller
 * streams: its audio covered at least half the wall time from the call's start to the last echo
 * before the barge-in, or between that echo and the confirmation (a caller that streams only
 * while speaking falls back to the wall clock). The first span ends before the clear, so an uplink
 * stall that holds the confirmation (and the audio before it) cannot make a streaming caller look
 * silent. No I/O and no timers here: the session holds one of these per barge-in and settles it.
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
/** Echoes of the interrupted epoch remembered after the clear (a flush echoes at most a window's marks). */
const MAX_LATE_ECHOES = 64;

/** An echo of the interrupted epoch that arrived after the clear was sent, on the caller's clock. */
export interface LateEcho {
  readonly positionMs: number;
  readonly callerMs: number;
  /** Wall time of its arrival. */
  readonly at: number;
}

/** What the caller's clock says at the clear's confirmation. */
export interface ConfirmationClock {
  /** Caller audio received before the confirmation (ms). */
  readonly callerMs: number;
  /** The last echo before the barge-in, if any. */
  readonly echo: EchoStamp | undefined;
  /** The caller streamed from the call's start to that echo (see {@link streamedUntil}). */
  readonly streamed: boolean;
  /**
   * Echoes of marks sent before the clear that arrived after it, in arrival order: played before
   * the clear arrived (later anchors), then those it flushed (each an upper bound: that mark had
   * not played); see splitLateEchoes.
   */
  readonly late: readonly LateEcho[];
}

/**
 * Whether the caller's audio covered at least half the wall time from the call's start (`startedAt`,
 * the session's clock) to `echo`: a carrier's media stream does, a caller that sends audio only
 * while it speaks does not (unless it spoke most of the time, and then it speaks at a barge-in).
 */
export function streamedUntil(echo: EchoStamp | undefined, startedAt: number): boolean {
  return echo !== undefined && echo.callerMs >= CALLER_CLOCK_MIN_SHARE * Math.max(0, echo.at - startedAt);
}

/** The caller's clock advances a frame at a time: two stamps this close may be the same instant. */
const FRAME_SLACK_MS = 20;

/**
 * Splits the echoes that arrived after the clear into those played before it arrived and those it
 * flushed. The caller sends them in that order (it flushes when the clear arrives, all at once,
 * and plays nothing of the old epoch after), so the first echo that cannot have been played ends
 * the played ones: one stamped with the confirmation or later, one stamped with the next (a
 * flush sends them in one burst; played marks are a mark interval apart), or one ahead of real
 * time since the anchor. The clear arrived when the first flushed echo was sent — earlier than
 * the confirmation when the marker behind the clear was held up on its own.
 */
function splitLateEchoes(
  echo: LateEcho | undefined,
  clock: ConfirmationClock,
  confirmedAt: number,
): { anchor: LateEcho | undefined; clearAtMs: number; clearArrivedAt: number; flushedBelowMs: number } {
  let anchor = echo;
  const late = clock.late;
  let flushedFrom = late.length;
  for (let i = 0; i < late.length; i++) {
    const current = late[i]!;
    const next = late[i + 1];
    const withConfirmation = current.callerMs >= clock.callerMs;
    const sameBurst = next !== undefined && next.callerMs - current.callerMs < FRAME_SLACK_MS;
    const aheadOfRealTime = anchor !== undefined && current.positionMs - anchor.positionMs > current.callerMs - anchor.callerMs + FRAME_SLACK_MS;
    if (withConfirmation || sameBurst || aheadOfRealTime) {
      flushedFrom = i;
      break;
    }
    if (anchor === undefined || current.positionMs > anchor.positionMs) anchor = current;
  }
  const flushed = late.slice(flushedFrom);
  return {
    anchor,
    clearAtMs: Math.min(clock.callerMs, ...flushed.map((f) => f.callerMs)),
    clearArrivedAt: Math.min(confirmedAt, ...flushed.map((f) => f.at)),
    flushedBelowMs: Math.min(Infinity, ...flushed.map((f) => f.positionMs)),
  };
}

/**
 * Evaluates a frozen epoch timeline at `at` (the arrival of the clear's confirmation). With the
 * caller's clock, the latest echo played before the clear is the anchor and the time since it is
 * read on that clock (when it ran, see above); otherwise the timeline's own wall-clock estimate.
 * Either way the point is below every mark the clear flushed, and within what was sent.
 */
export function heardAt(timeline: PlayoutTracker, at: number, clock?: ConfirmationClock): HeardAt {
  let heardMs = timeline.estimatePlayed(at);
  if (clock !== undefined) {
    // Does the caller stream? Judged up to the last echo before the barge-in, or since it.
    const echo = clock.echo;
    const streams = echo === undefined || clock.streamed || clock.callerMs - echo.callerMs >= CALLER_CLOCK_MIN_SHARE * Math.max(0, at - echo.at);
    const { anchor, clearAtMs, clearArrivedAt, flushedBelowMs } = splitLateEchoes(echo, clock, at);
    if (anchor !== undefined && streams) {
      // The caller's clock counts whole frames; when the wall clock agrees with it to a frame
      // (the two echoes were not held up differently), the wall clock's finer reading is used.
      const callerElapsed = Math.max(0, clearAtMs - anchor.callerMs);
      const wallElapsed = Math.max(0, clearArrivedAt - anchor.at);
      heardMs = anchor.positionMs + (Math.abs(wallElapsed - callerElapsed) <= FRAME_SLACK_MS ? wallElapsed : callerElapsed);
    }
    heardMs = Math.max(timeline.playedMs, anchor?.positionMs ?? 0, Math.min(heardMs, flushedBelowMs, timeline.sentMs));
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
    /** Audio the barge-in dropped from the gateway (ms; more at the end of a local hold, `addDropped`). */
    private dropped: number,
    /** The estimate at the barge-in (what the truncation used to be). */
    readonly estimateAtBargeInMs: number,
    /** The last played report of the interrupted epoch, if any. */
    readonly lastEcho: EchoStamp | undefined,
    /** The caller streamed from the call's start to `lastEcho` ({@link streamedUntil}). */
    readonly streamed: boolean,
  ) {}

  private readonly late: LateEcho[] = [];

  /** Audio the barge-in dropped from the gateway (ms). */
  get droppedMs(): number {
    return this.dropped;
  }

  /** A local hold ended in the barge-in: what it held was dropped too. */
  addDropped(ms: number): void {
    this.dropped += ms;
  }

  /** An echo of a mark sent before a clear (played just before it arrived, or flushed by it). */
  echoAfterClear(epoch: number, positionMs: number, callerMs: number, at: number): void {
    if (epoch !== this.epoch - 1 || this.late.length >= MAX_LATE_ECHOES) return;
    this.late.push({ positionMs, callerMs, at });
  }

  /** True when a played report of `epoch` confirms this clear. */
  confirmedBy(epoch: number): boolean {
    return epoch >= this.epoch;
  }

  /** The truncation point if settled at `at`; `callerMs` (the caller's clock then) when the clear's confirmation arrived. */
  settle(at: number, callerMs?: number): HeardAt {
    return heardAt(this.timeline, at, callerMs === undefined ? undefined : { callerMs, echo: this.lastEcho, streamed: this.streamed, late: this.late });
  }
}
