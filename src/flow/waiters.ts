/**
 * Parked operations for the flow primitives. A blocked `write()`, `read()` or `spend()` creates one
 * {@link Waiter}, which keeps its place in a {@link WaiterList} across wake-ups: the owner wakes
 * every member when its state changes and each one re-checks its own condition in a loop (house
 * style 6: two producers, one slot). Only the first member may proceed, so waiters are served in
 * arrival order and a large request is not starved by small ones.
 *
 * Every wait honours `{ signal, timeoutMs }` (house style 9) and releases its timer and its signal
 * listener when it leaves, however it ends.
 */
import { vwError, type VoicewireError } from '../errors.js';
import type { WaitOptions } from './audio-queue.js';
import { assertSize } from './sizes.js';

/** setTimeout's largest delay; a longer one would fire after 1 ms, so it counts as "no deadline". */
const MAX_TIMER_MS = 2_147_483_647;

/** The members of one wait queue, in arrival order. */
export class WaiterList {
  private readonly members = new Set<Waiter>();

  get size(): number {
    return this.members.size;
  }

  isFirst(waiter: Waiter): boolean {
    for (const member of this.members) return member === waiter;
    return false;
  }

  /** Lets every parked member re-check its condition. */
  wakeAll(): void {
    for (const member of this.members) member.wake();
  }

  /** Ends every member's wait with `error` (abort, close): all of them leave. */
  failAll(error: VoicewireError): void {
    if (this.members.size === 0) return;
    const failed = [...this.members];
    this.members.clear();
    for (const member of failed) member.fail(error);
  }

  /** @internal */
  add(waiter: Waiter): void {
    this.members.add(waiter);
  }

  /** @internal Removes `waiter`; when it was first, the next one is now first and must re-check. */
  remove(waiter: Waiter): void {
    const wasFirst = this.isFirst(waiter);
    if (this.members.delete(waiter) && wasFirst) this.wakeAll();
  }
}

/** One blocked operation. Create it, `await park()` in a loop around the condition, `leave()` in `finally`. */
export class Waiter {
  private resolvePark: (() => void) | undefined;
  private rejectPark: ((error: VoicewireError) => void) | undefined;
  private error: VoicewireError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.failAndLeave(abortedBySignal(this.signal));

  constructor(
    private readonly list: WaiterList,
    what: string,
    options: WaitOptions | undefined,
  ) {
    list.add(this);
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined) {
      assertSize(timeoutMs);
      if (timeoutMs <= MAX_TIMER_MS) {
        this.timer = setTimeout(() => this.failAndLeave(vwError('VW_ERR_DEADLINE', timeoutMs, what)), timeoutMs);
      }
    }
    this.signal = options?.signal;
    if (this.signal?.aborted) this.failAndLeave(abortedBySignal(this.signal));
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Resolves at the next wake-up; rejects once the wait has failed (deadline, signal, abort, close). */
  park(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return new Promise<void>((resolve, reject) => {
      this.resolvePark = resolve;
      this.rejectPark = reject;
    });
  }

  /** @internal */
  wake(): void {
    const resolve = this.resolvePark;
    this.resolvePark = this.rejectPark = undefined;
    resolve?.();
  }

  /** @internal Called by the list, which has already removed this waiter. */
  fail(error: VoicewireError): void {
    if (this.error) return;
    this.error = error;
    this.release();
    const reject = this.rejectPark;
    this.resolvePark = this.rejectPark = undefined;
    reject?.(error);
  }

  /** Leaves the list and releases the timer and the signal listener. Idempotent. */
  leave(): void {
    this.release();
    this.list.remove(this);
  }

  private failAndLeave(error: VoicewireError): void {
    this.list.remove(this);
    this.fail(error);
  }

  private release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** Rejects at once when `signal` is already aborted (a cancelled caller gets no side effects). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedBySignal(signal);
}

function abortedBySignal(signal: AbortSignal | undefined): VoicewireError {
  const reason: unknown = signal?.reason;
  const error = vwError('VW_ERR_ABORTED', reason instanceof Error ? reason.message : String(reason));
  error.cause = reason;
  return error;
}
