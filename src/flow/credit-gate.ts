/**
 * Credit-based flow control towards the caller: the sender may only have `window` ms of audio in
 * the consumer's playout buffer. Credit comes from two sources, so either kind of peer works:
 * incremental grants ("I have room for 200 ms more") and cumulative played reports ("I have played
 * 3 400 ms since the last clear"). A played report recomputes credit from totals,
 * credit = window − (sent − played), so a lost or duplicated grant heals at the next report
 * instead of leaking credit for the rest of the call.
 *
 * Predictive credit (`clock` given): the consumer's played position is not only what it reported
 * but what a PlayoutModel predicts (it plays in real time from the last report), so credit grows
 * with time and a delayed report no longer starves the consumer. A spender waiting for credit
 * that time alone will bring gets one timer, at the moment the prediction gets there.
 *
 * Two ways to wait: `spend()` (a promise per wait) or, for a synchronous sender that re-checks
 * `trySpend()` itself, `wakeOnPredictedCredit()` (a callback from that same one timer, no promise).
 */
import { vwError, type VoicewireError } from '../errors.js';
import type { WaitOptions } from './audio-queue.js';
import { PlayoutModel, type EchoSample } from './playout-model.js';
import { assertSize } from './sizes.js';
import { Waiter, WaiterList, throwIfAborted } from './waiters.js';

export interface CreditGateOptions {
  /** Window in ms of audio the consumer can buffer. Default 800; clamped to 200–2000. */
  readonly windowMs?: number;
  /** Predictive credit: the clock (ms) the consumer's playback is modelled on. Absent: reports only. */
  readonly clock?: () => number;
  /** Predictive credit: how far the prediction may run past the last report (PlayoutModel; default 250). */
  readonly leadMs?: number;
}

export const DEFAULT_WINDOW_MS = 800;
export const MIN_WINDOW_MS = 200;
export const MAX_WINDOW_MS = 2000;

const RESOLVED: Promise<void> = Promise.resolve();

interface PendingReady {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: VoicewireError) => void;
}

/**
 * Token bucket in ms of audio. Credit = what the sender may still send before the consumer's
 * buffer is full. Accepts incremental grants and cumulative played reports; a played report
 * recomputes credit = window − (sent − played), healing lost or duplicated grants.
 * Invariant: 0 ≤ credit ≤ window at all times.
 *
 * Waiting spenders are served in arrival order; `trySpend()` does not overtake them.
 */
export class CreditGate {
  private window: number;
  private creditMs: number;
  private sent = 0;
  private playedPosition = 0;
  private readonly spenders = new WaiterList();
  private pendingReady: PendingReady | undefined;
  private readonly clock: (() => number) | undefined;
  private readonly model: PlayoutModel | undefined;
  /** The one wake-up of a predictive gate: when the prediction gives the first waiter its credit. */
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  /** The synchronous sender's callback for the wake-up (see `wakeOnPredictedCredit`). */
  private wakeListener: (() => void) | undefined;
  private wakeListenerMs = 0;

  constructor(options: CreditGateOptions = {}) {
    this.window = clampWindow(options.windowMs ?? DEFAULT_WINDOW_MS);
    this.creditMs = this.window;
    this.clock = options.clock;
    if (this.clock) this.model = new PlayoutModel(options.leadMs === undefined ? {} : { leadMs: options.leadMs });
  }

  /** Window in ms (clamped to 200–2000); `setWindow` changes it. */
  get windowMs(): number {
    return this.window;
  }

  /** Credit now: stored for a report-only gate, window − (sent − predicted played) for a predictive one. */
  get credit(): number {
    if (this.model) this.creditMs = this.predictedCredit();
    return this.creditMs;
  }

  /** The playout model of a predictive gate; undefined otherwise. */
  get playout(): PlayoutModel | undefined {
    return this.model;
  }

  /** Total ms spent since the last reset. */
  get sentMs(): number {
    return this.sent;
  }

  /** Highest cumulative played position reported since the last reset (≤ sentMs). */
  get playedMs(): number {
    return this.playedPosition;
  }

  /** Audio believed to be buffered at the consumer: sent − reported (or, predictive, predicted) played. */
  get inFlightMs(): number {
    if (this.model && this.clock) return this.sent - this.model.predicted(this.clock());
    return this.sent - this.playedPosition;
  }

  /**
   * Incremental grant: credit += ms, capped at the window. NaN, negative, infinite: VW_ERR_INVALID_SIZE.
   * A predictive gate takes it as a report of ms more played (that is what room for ms more means).
   */
  grant(ms: number): void {
    assertSize(ms);
    if (this.model) {
      this.played(this.playedPosition + ms);
      return;
    }
    this.creditMs = Math.min(this.window, this.creditMs + ms);
    this.credited();
  }

  /**
   * Cumulative played position since the last reset; regressions are ignored, clamped to sentMs.
   * A report equal to the last one still recomputes credit (that is what heals a lost grant).
   * A predictive gate corrects its model and returns the round-trip or lateness sample it gave.
   */
  played(totalMs: number): EchoSample | undefined {
    assertSize(totalMs);
    if (totalMs < this.playedPosition) return undefined;
    this.playedPosition = Math.min(totalMs, this.sent);
    let sample: EchoSample | undefined;
    if (this.model && this.clock) {
      sample = this.model.confirm(this.playedPosition, this.clock());
      this.creditMs = this.predictedCredit();
    } else {
      // Grants may have let in-flight audio exceed the window; the clamp keeps credit ≥ 0 then.
      this.creditMs = Math.min(this.window, Math.max(0, this.window - (this.sent - this.playedPosition)));
    }
    this.credited();
    return sample;
  }

  /**
   * A new window (clamped to 200–2000). Credit follows at once: a smaller window may leave more in
   * flight than it allows, then credit is 0 until the consumer has played the difference.
   */
  setWindow(ms: number): void {
    const next = clampWindow(ms);
    if (next === this.window) return;
    const grew = next > this.window;
    this.window = next;
    this.creditMs = this.model ? this.predictedCredit() : Math.min(next, Math.max(0, next - (this.sent - this.playedPosition)));
    if (grew) this.credited();
  }

  /** Spend without waiting if credit ≥ ms; false otherwise (and while earlier spenders wait). */
  trySpend(ms: number): boolean {
    this.checkSpend(ms);
    if (this.spenders.size > 0 || this.credit < ms) return false;
    this.take(ms);
    return true;
  }

  /** Wait until credit ≥ ms, then spend. ms > window is VW_ERR_CHUNK_TOO_LARGE. */
  async spend(ms: number, options?: WaitOptions): Promise<void> {
    this.checkSpend(ms);
    throwIfAborted(options?.signal);
    if (this.spenders.size === 0 && this.credit >= ms) {
      this.take(ms);
      return;
    }
    const waiter = new Waiter(this.spenders, 'credit', options);
    try {
      for (;;) {
        const first = this.spenders.isFirst(waiter);
        // The window may have shrunk under a waiting spender: it may never exceed it.
        if (ms > this.window) throw vwError('VW_ERR_CHUNK_TOO_LARGE', ms, this.window);
        if (first && this.credit >= ms) break;
        if (first) this.wakeWhenCredit(ms);
        await waiter.park();
      }
      this.take(ms);
    } finally {
      waiter.leave();
      if (this.spenders.size === 0 && this.pendingReady === undefined && this.wakeListener === undefined) this.cancelWake();
    }
  }

  /**
   * For a synchronous sender whose `trySpend(ms)` just failed: calls `wake` once, from the gate's
   * one timer, at the moment the predicted playout gives `ms` of credit, so the sender can retry
   * without a promise. Returns false (and arms nothing) when time alone never brings that credit
   * (a report-only gate, or the prediction at what was sent or at its lead bound): only a report
   * can, and the sender that passes reports to `played()`/`grant()` knows when it has. A later
   * call replaces the callback; `cancelWakeOnPredictedCredit()` and `abort()` drop it.
   */
  wakeOnPredictedCredit(ms: number, wake: () => void): boolean {
    this.wakeListener = undefined;
    if (!this.wakeWhenCredit(ms)) {
      if (this.spenders.size === 0 && this.pendingReady === undefined) this.cancelWake();
      return false;
    }
    this.wakeListener = wake;
    this.wakeListenerMs = ms;
    return true;
  }

  /** Drops the callback of `wakeOnPredictedCredit` (and the timer, when nobody else needs it). */
  cancelWakeOnPredictedCredit(): void {
    this.wakeListener = undefined;
    if (this.spenders.size === 0 && this.pendingReady === undefined) this.cancelWake();
  }

  /**
   * Interruption: the consumer dropped its buffer. sent = played = 0, credit = window. Waiters stay
   * waiting (they now may proceed). A predictive gate takes the reset as the moment the clear was
   * sent: the first report of position 0 after it (the marker behind the clear) measures the round trip.
   */
  reset(): void {
    this.sent = 0;
    this.playedPosition = 0;
    this.model?.reset(this.clock?.());
    this.creditMs = this.window;
    this.credited();
  }

  /**
   * Reject every waiting spend() with VW_ERR_ABORTED(reason); the gate stays usable. A pending
   * `ready` rejects too (marked handled, as WHATWG does), and the next `ready` starts afresh. The
   * callback of `wakeOnPredictedCredit` is dropped.
   */
  abort(reason: string): void {
    const error = vwError('VW_ERR_ABORTED', reason);
    this.wakeListener = undefined;
    this.cancelWake();
    this.spenders.failAll(error);
    const pending = this.pendingReady;
    this.pendingReady = undefined;
    pending?.reject(error);
  }

  /** Resolves when credit > 0 (a WHATWG-style `ready`). */
  get ready(): Promise<void> {
    if (this.credit > 0) return RESOLVED;
    this.pendingReady ??= createPendingReady();
    this.wakeWhenCredit(Number.MIN_VALUE);
    return this.pendingReady.promise;
  }

  private checkSpend(ms: number): void {
    assertSize(ms);
    if (ms > this.window) throw vwError('VW_ERR_CHUNK_TOO_LARGE', ms, this.window);
  }

  private take(ms: number): void {
    // credit ≥ ms was checked, and IEEE subtraction of a smaller number never goes below zero.
    this.creditMs -= ms;
    this.sent += ms;
    if (this.model && this.clock) {
      this.model.sent(ms, this.clock());
      this.creditMs = this.predictedCredit();
    }
  }

  /** window − (sent − predicted), clamped to 0–window (a shrunk window may be overdrawn). */
  private predictedCredit(): number {
    const played = this.model && this.clock ? this.model.predicted(this.clock()) : this.playedPosition;
    return Math.min(this.window, Math.max(0, this.window - (this.sent - played)));
  }

  /**
   * Predictive gate: one timer for the moment the prediction gives `ms` of credit; none when only a
   * report can (the prediction is at what was sent or at its lead bound): returns whether a timer
   * (this one or an earlier one, which stays) is armed.
   */
  private wakeWhenCredit(ms: number): boolean {
    if (!this.model || !this.clock) return false;
    const now = this.clock();
    const at = this.model.reachesAt(this.sent - this.window + ms, now);
    if (at === undefined) return false;
    if (at >= this.wakeAt) return true;
    this.cancelWake();
    this.wakeAt = at;
    // ≥ 1 ms: a timer of 0 at the edge of float rounding would spin.
    this.wakeTimer = setTimeout(this.onWakeTimer, Math.max(1, Math.ceil(at - now)));
    return true;
  }

  private readonly onWakeTimer = (): void => {
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
    this.creditMs = this.predictedCredit();
    this.credited();
    const listener = this.wakeListener;
    if (listener === undefined) return;
    // The moment of an earlier waiter (a spend, `ready`): the callback waits on for its own.
    if (this.creditMs < this.wakeListenerMs && this.wakeWhenCredit(this.wakeListenerMs)) return;
    this.wakeListener = undefined;
    listener();
  };

  private cancelWake(): void {
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
  }

  /** Credit may have grown: wake spenders and settle `ready`. */
  private credited(): void {
    if (this.spenders.size > 0) this.spenders.wakeAll();
    if (this.pendingReady && this.credit > 0) {
      const pending = this.pendingReady;
      this.pendingReady = undefined;
      pending.resolve();
      if (this.spenders.size === 0 && this.wakeListener === undefined) this.cancelWake();
    } else if (this.pendingReady) {
      this.wakeWhenCredit(Number.MIN_VALUE);
    }
  }
}

function clampWindow(requested: number): number {
  if (typeof requested !== 'number' || Number.isNaN(requested) || requested < 0) {
    throw vwError('VW_ERR_INVALID_SIZE', String(requested));
  }
  return Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, requested));
}

function createPendingReady(): PendingReady {
  let resolve!: () => void;
  let reject!: (error: VoicewireError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be listening when abort() rejects it; an unobserved `ready` must not crash the process.
  promise.catch(ignoreRejection);
  return { promise, resolve, reject };
}

function ignoreRejection(): void {
  // Deliberately nothing: the rejection is observed through `ready` by whoever awaits it.
}
