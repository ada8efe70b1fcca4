/**
 * Credit-based flow control towards the caller: the sender may only have `window` ms of audio in
 * the consumer's playout buffer. Credit comes from two sources, so either kind of peer works:
 * incremental grants ("I have room for 200 ms more") and cumulative played reports ("I have played
 * 3 400 ms since the last clear"). A played report recomputes credit from totals,
 * credit = window − (sent − played), so a lost or duplicated grant heals at the next report
 * instead of leaking credit for the rest of the call.
 */
import { vwError, type VoicewireError } from '../errors.js';
import type { WaitOptions } from './audio-queue.js';
import { assertSize } from './sizes.js';
import { Waiter, WaiterList, throwIfAborted } from './waiters.js';

export interface CreditGateOptions {
  /** Window in ms of audio the consumer can buffer. Default 800; clamped to 200–2000. */
  readonly windowMs?: number;
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
  readonly windowMs: number;
  private creditMs: number;
  private sent = 0;
  private playedPosition = 0;
  private readonly spenders = new WaiterList();
  private pendingReady: PendingReady | undefined;

  constructor(options: CreditGateOptions = {}) {
    const requested = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (typeof requested !== 'number' || Number.isNaN(requested) || requested < 0) {
      throw vwError('VW_ERR_INVALID_SIZE', String(requested));
    }
    this.windowMs = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, requested));
    this.creditMs = this.windowMs;
  }

  get credit(): number {
    return this.creditMs;
  }

  /** Total ms spent since the last reset. */
  get sentMs(): number {
    return this.sent;
  }

  /** Highest cumulative played position reported since the last reset (≤ sentMs). */
  get playedMs(): number {
    return this.playedPosition;
  }

  /** sentMs − playedMs: audio believed to be buffered at the consumer. */
  get inFlightMs(): number {
    return this.sent - this.playedPosition;
  }

  /** Incremental grant: credit += ms, capped at the window. NaN, negative, infinite: VW_ERR_INVALID_SIZE. */
  grant(ms: number): void {
    assertSize(ms);
    this.creditMs = Math.min(this.windowMs, this.creditMs + ms);
    this.credited();
  }

  /**
   * Cumulative played position since the last reset; regressions are ignored, clamped to sentMs.
   * A report equal to the last one still recomputes credit (that is what heals a lost grant).
   */
  played(totalMs: number): void {
    assertSize(totalMs);
    if (totalMs < this.playedPosition) return;
    this.playedPosition = Math.min(totalMs, this.sent);
    // Grants may have let in-flight audio exceed the window; the clamp keeps credit ≥ 0 then.
    this.creditMs = Math.min(this.windowMs, Math.max(0, this.windowMs - (this.sent - this.playedPosition)));
    this.credited();
  }

  /** Spend without waiting if credit ≥ ms; false otherwise (and while earlier spenders wait). */
  trySpend(ms: number): boolean {
    this.checkSpend(ms);
    if (this.spenders.size > 0 || this.creditMs < ms) return false;
    this.take(ms);
    return true;
  }

  /** Wait until credit ≥ ms, then spend. ms > window is VW_ERR_CHUNK_TOO_LARGE. */
  async spend(ms: number, options?: WaitOptions): Promise<void> {
    this.checkSpend(ms);
    throwIfAborted(options?.signal);
    if (this.spenders.size === 0 && this.creditMs >= ms) {
      this.take(ms);
      return;
    }
    const waiter = new Waiter(this.spenders, 'credit', options);
    try {
      while (!(this.spenders.isFirst(waiter) && this.creditMs >= ms)) await waiter.park();
      this.take(ms);
    } finally {
      waiter.leave();
    }
  }

  /** Interruption: the consumer dropped its buffer. sent = played = 0, credit = window. Waiters stay waiting (they now may proceed). */
  reset(): void {
    this.sent = 0;
    this.playedPosition = 0;
    this.creditMs = this.windowMs;
    this.credited();
  }

  /**
   * Reject every waiting spend() with VW_ERR_ABORTED(reason); the gate stays usable. A pending
   * `ready` rejects too (marked handled, as WHATWG does), and the next `ready` starts afresh.
   */
  abort(reason: string): void {
    const error = vwError('VW_ERR_ABORTED', reason);
    this.spenders.failAll(error);
    const pending = this.pendingReady;
    this.pendingReady = undefined;
    pending?.reject(error);
  }

  /** Resolves when credit > 0 (a WHATWG-style `ready`). */
  get ready(): Promise<void> {
    if (this.creditMs > 0) return RESOLVED;
    this.pendingReady ??= createPendingReady();
    return this.pendingReady.promise;
  }

  private checkSpend(ms: number): void {
    assertSize(ms);
    if (ms > this.windowMs) throw vwError('VW_ERR_CHUNK_TOO_LARGE', ms, this.windowMs);
  }

  private take(ms: number): void {
    // credit ≥ ms was checked, and IEEE subtraction of a smaller number never goes below zero.
    this.creditMs -= ms;
    this.sent += ms;
  }

  /** Credit may have grown: wake spenders and settle `ready`. */
  private credited(): void {
    if (this.spenders.size > 0) this.spenders.wakeAll();
    if (this.creditMs > 0 && this.pendingReady) {
      const pending = this.pendingReady;
      this.pendingReady = undefined;
      pending.resolve();
    }
  }
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
