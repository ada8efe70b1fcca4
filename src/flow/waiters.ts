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

/**
 * The members of one wait queue, in arrival order. Most lists of a call hold no member or one,
 * so the first member has a field of its own and the rest a Set made on the first overlap: an
 * idle list costs no hash table (a call holds six of them).
 */
export class WaiterList {
  /** The oldest member; undefined only when the list is empty. */
  private first: Waiter | undefined;
  /** The members after `first`, in arrival order. */
  private rest: Set<Waiter> | undefined;

  get size(): number {
    return (this.first === undefined ? 0 : 1) + (this.rest?.size ?? 0);
  }

  isFirst(waiter: Waiter): boolean {
    return this.first === waiter;
  }

  /** Lets every parked member re-check its condition. */
  wakeAll(): void {
    this.first?.wake();
    if (this.rest !== undefined) for (const member of this.rest) member.wake();
  }

  /** Ends every member's wait with `error` (abort, close): all of them leave. */
  failAll(error: VoicewireError): void {
    const first = this.first;
    if (first === undefined) return;
    const rest = this.rest === undefined || this.rest.size === 0 ? [] : [...this.rest];
    this.first = undefined;
    this.rest?.clear();
    first.fail(error);
    for (const member of rest) member.fail(error);
  }

  /** @internal */
  add(waiter: Waiter): void {
    if (this.first === undefined) this.first = waiter;
    else if (this.first !== waiter) (this.rest ??= new Set()).add(waiter);
  }

  /** @internal Removes `waiter`; when it was first, the next one is now first and must re-check. */
  remove(waiter: Waiter): void {
    if (this.first !== waiter) {
      this.rest?.delete(waiter);
      return;
    }
    this.first = undefined;
    const rest = this.rest;
    if (rest === undefined || rest.size === 0) return;
    for (const next of rest) {
      this.first = next;
      break;
    }
    rest.delete(this.first as Waiter);
    this.wakeAll();
  }
}

/** One blocked operation. Create it, `await park()` in a loop around the condition, `leave()` in `finally`. */
export class Waiter {
  private resolvePark: (() => void) | undefined;
  private rejectPark: ((error: VoicewireError) => void) | undefined;
  private error: VoicewireError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal | undefined;
  /** The signal's listener, made only for a wait that has a signal (most have none). */
  private onAbort: (() => void) | undefined;

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
    const signal = options?.signal;
    this.signal = signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.failAndLeave(abortedBySignal(signal));
      return;
    }
    this.onAbort = () => this.failAndLeave(abortedBySignal(signal));
    signal.addEventListener('abort', this.onAbort, { once: true });
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
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
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
