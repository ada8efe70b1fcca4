/**
 * A bounded FIFO counted in items — the text queue between the reasoning stage and TTS, bounded
 * in sentences. It borrows the WHATWG vocabulary like src/flow/audio-queue.ts does for audio:
 * `highWaterMark`, `desiredSize`, `abort(reason)` (drop, reject waiters), `close()` (drain, then
 * end). A full queue makes `write()` wait, which is how a slow TTS pauses the LLM stream reader.
 */
import { vwError } from '../../errors.js';
import type { WaitOptions } from '../../flow/audio-queue.js';
import { abortReason } from './abortable.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class ItemQueue<T> {
  readonly highWaterMark: number;
  private readonly items: T[] = [];
  private closedFlag = false;
  /** Writers waiting for room and readers waiting for an item; woken to re-check (house style 6). */
  private readonly writers = new Set<Waiter>();
  private readonly readers = new Set<Waiter>();
  /** Deepest the queue has been (for tests and metrics). */
  maxLength = 0;

  constructor(highWaterMark: number) {
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
      throw new RangeError(`highWaterMark must be a whole number ≥ 1 (got ${highWaterMark})`);
    }
    this.highWaterMark = highWaterMark;
  }

  get length(): number {
    return this.items.length;
  }

  get desiredSize(): number {
    return this.highWaterMark - this.items.length;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Enqueues `item`, waiting while the queue is full. Rejects VW_ERR_CLOSED after close(). */
  async write(item: T, options: WaitOptions = {}): Promise<void> {
    for (;;) {
      if (this.closedFlag) throw vwError('VW_ERR_CLOSED', 'queue closed');
      if (this.items.length < this.highWaterMark) break;
      await this.wait(this.writers, options, 'room in the sentence queue');
    }
    this.items.push(item);
    if (this.items.length > this.maxLength) this.maxLength = this.items.length;
    wakeAll(this.readers);
  }

  /** The next item; waits while empty; `undefined` once closed and drained. */
  async read(options: WaitOptions = {}): Promise<T | undefined> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift() as T;
        wakeAll(this.writers);
        return item;
      }
      if (this.closedFlag) return undefined;
      await this.wait(this.readers, options, 'a sentence');
    }
  }

  /** Drops everything queued and rejects every waiter with VW_ERR_ABORTED; returns items dropped. */
  abort(reason: string): number {
    const dropped = this.items.length;
    this.items.length = 0;
    rejectAll(this.writers, vwError('VW_ERR_ABORTED', reason));
    rejectAll(this.readers, vwError('VW_ERR_ABORTED', reason));
    return dropped;
  }

  /** No more writes: readers drain what is queued, then get undefined; waiting writers reject. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    rejectAll(this.writers, vwError('VW_ERR_CLOSED', 'queue closed'));
    wakeAll(this.readers);
  }

  private wait(set: Set<Waiter>, options: WaitOptions, what: string): Promise<void> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      function onAbort(): void {
        waiter.reject(abortReason(signal as AbortSignal));
      }
      function cleanup(): void {
        set.delete(waiter);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiter.reject(vwError('VW_ERR_DEADLINE', timeoutMs, what)), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }
}

function wakeAll(set: Set<Waiter>): void {
  for (const waiter of [...set]) waiter.resolve();
}

function rejectAll(set: Set<Waiter>, err: Error): void {
  for (const waiter of [...set]) waiter.reject(err);
}
