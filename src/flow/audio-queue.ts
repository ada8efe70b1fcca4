/**
 * A bounded FIFO of audio chunks, bounded in milliseconds of audio rather than in items (WHATWG
 * "queue with sizes", house style 4–6). It is the buffer between a model that produces speech
 * faster than real time and a caller who plays it in real time: a full queue pauses the producer
 * (`wait`), sheds the oldest audio (`drop-oldest`, for live sources) or refuses (`reject`).
 *
 * Barge-in drops, never flushes: `abort()` empties the queue at once and rejects whoever waits, yet
 * leaves the queue usable for the next response, because a call's queue outlives one response.
 * `close()` is final: readers drain what is left, then get `undefined`.
 */
import { vwError } from '../errors.js';
import { Deque } from './deque.js';
import { assertSize } from './sizes.js';
import { Waiter, WaiterList, throwIfAborted } from './waiters.js';

/** A chunk the queue can size: its duration in ms of audio (WHATWG "queue with sizes"). */
export interface SizedChunk {
  readonly durationMs: number;
}

/**
 * What a full queue does with a new chunk:
 * - `wait`: `write()` waits until there is room (the producer is paused). Default.
 * - `drop-oldest`: `write()` never waits; the oldest chunks are dropped to make room (live audio).
 * - `reject`: `write()` rejects with VW_ERR_QUEUE_CAP / `tryWrite()` returns false (caller decides).
 */
export type OverflowPolicy = 'wait' | 'drop-oldest' | 'reject';

export interface AudioQueueOptions<T> {
  /** Capacity in ms of audio (in the units of `size`, when given). Finite, > 0. */
  readonly highWaterMarkMs: number;
  readonly overflow?: OverflowPolicy;
  /** Called for each chunk dropped by `drop-oldest` (for counters/logs). Not called by abort(). */
  readonly onDrop?: (chunk: T) => void;
  /**
   * Cap on the number of chunks, a backstop for zero-length chunks (markers), which the ms bound
   * alone would let grow without limit. A full count behaves like a full queue. Default 65 536.
   */
  readonly maxChunks?: number;
  /**
   * The size of a chunk (WHATWG queuing strategy `size`), measured once when it is written.
   * Default `chunk => chunk.durationMs`; required when the chunks carry no `durationMs`.
   */
  readonly size?: (chunk: T) => number;
}

/** The options a queue of `T` needs: `size` may be left out only when `T` carries `durationMs`. */
export type AudioQueueOptionsFor<T> = [T] extends [SizedChunk] ? AudioQueueOptions<T> : AudioQueueOptions<T> & { readonly size: (chunk: T) => number };

export interface WaitOptions {
  readonly signal?: AbortSignal;
  /** Reject with VW_ERR_DEADLINE after this many ms (house style 9: every wait has a deadline). */
  readonly timeoutMs?: number;
}

/** The two lifetimes of a queue: `abort()` keeps it open, `close()` is final. */
type QueueState = 'open' | 'closed';

const DEFAULT_MAX_CHUNKS = 65_536;

/**
 * Bounded FIFO of audio chunks, bounded in ms (not items). `abort()` drops everything and rejects
 * waiters but leaves the queue usable (a call's queue outlives one response); `close()` is final.
 *
 * Writers are served in arrival order: a `write()` or `tryWrite()` does not overtake a writer that
 * is already waiting, so the chunks of concurrent producers keep the order of their calls.
 */
export class AudioQueue<T> {
  readonly highWaterMarkMs: number;
  /** Cap on the number of chunks queued (see {@link AudioQueueOptions.maxChunks}). */
  readonly maxChunks: number;
  private readonly overflow: OverflowPolicy;
  private readonly onDrop: ((chunk: T) => void) | undefined;
  private readonly measure: (chunk: T) => number;
  private readonly chunks = new Deque<T>();
  /** The size of each queued chunk, as measured when written (WHATWG keeps it beside the chunk). */
  private readonly sizes = new Deque<number>();
  private queued = 0;
  private state: QueueState = 'open';
  /** Writers and readers waiting, each list made by its first waiter (a call's queues mostly never wait one way or either). */
  private writers: WaiterList | undefined;
  private readers: WaiterList | undefined;

  constructor(options: AudioQueueOptionsFor<T>) {
    const hwm = options.highWaterMarkMs;
    if (typeof hwm !== 'number' || !Number.isFinite(hwm) || hwm <= 0) throw vwError('VW_ERR_INVALID_SIZE', String(hwm));
    const maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
    if (!Number.isSafeInteger(maxChunks) || maxChunks < 1) throw vwError('VW_ERR_INVALID_SIZE', String(maxChunks));
    this.highWaterMarkMs = hwm;
    this.maxChunks = maxChunks;
    this.overflow = options.overflow ?? 'wait';
    this.onDrop = options.onDrop;
    // AudioQueueOptionsFor makes `size` required unless T carries durationMs, so the default is safe.
    this.measure = options.size ?? durationOf;
  }

  /** ms of audio queued now. */
  get queuedMs(): number {
    return this.queued;
  }

  /** Number of chunks queued. */
  get length(): number {
    return this.chunks.length;
  }

  /** highWaterMarkMs − queuedMs; ≤ 0 means "stop writing". */
  get desiredSize(): number {
    return this.highWaterMarkMs - this.queued;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Enqueue; with `wait` waits while the chunk does not fit. A chunk larger than the HWM is a
   * RangeError-coded VW_ERR_CHUNK_TOO_LARGE; a closed queue rejects with VW_ERR_CLOSED.
   */
  async write(chunk: T, options?: WaitOptions): Promise<void> {
    if (this.state === 'closed') throw vwError('VW_ERR_CLOSED', 'audio queue');
    const size = this.sizeOf(chunk);
    throwIfAborted(options?.signal);
    switch (this.overflow) {
      case 'drop-oldest':
        this.dropOldestFor(size);
        this.enqueue(chunk, size);
        return;
      case 'reject':
        if (!this.fits(size)) throw vwError('VW_ERR_QUEUE_CAP', this.highWaterMarkMs);
        this.enqueue(chunk, size);
        return;
      case 'wait':
        if ((this.writers?.size ?? 0) === 0 && this.fits(size)) {
          this.enqueue(chunk, size);
          return;
        }
        return this.waitToWrite(chunk, size, options);
    }
  }

  /**
   * Enqueue if it fits now (drop-oldest: always, after dropping); false otherwise, and false on a
   * closed queue. Never waits. Invalid and oversized chunks throw as for `write()`.
   */
  tryWrite(chunk: T): boolean {
    const size = this.sizeOf(chunk);
    if (this.state === 'closed') return false;
    if (this.overflow === 'drop-oldest') this.dropOldestFor(size);
    else if ((this.writers?.size ?? 0) > 0 || !this.fits(size)) return false;
    this.enqueue(chunk, size);
    return true;
  }

  /** Next chunk; waits while empty. Resolves `undefined` once closed and drained. */
  async read(options?: WaitOptions): Promise<T | undefined> {
    throwIfAborted(options?.signal);
    if ((this.readers?.size ?? 0) === 0 && (this.chunks.length > 0 || this.state === 'closed')) return this.take();
    const readers = (this.readers ??= new WaiterList());
    const waiter = new Waiter(readers, 'audio to read', options);
    try {
      for (;;) {
        if (readers.isFirst(waiter) && (this.chunks.length > 0 || this.state === 'closed')) return this.take();
        await waiter.park();
      }
    } finally {
      waiter.leave();
    }
  }

  /** Next chunk if any, without waiting. */
  tryRead(): T | undefined {
    return this.take();
  }

  /** Peek at the next chunk without removing it. */
  peek(): T | undefined {
    return this.chunks.peek();
  }

  /**
   * Drop everything queued at once, reject pending read/write waiters with VW_ERR_ABORTED(reason).
   * Returns ms dropped. `onDrop` is not called: the caller accounts for the total it gets back.
   */
  abort(reason: string): number {
    const dropped = this.queued;
    this.chunks.clear();
    this.sizes.clear();
    this.queued = 0;
    const error = vwError('VW_ERR_ABORTED', reason);
    this.readers?.failAll(error);
    this.writers?.failAll(error);
    return dropped;
  }

  /** No more writes; readers drain what is queued, then get undefined. Pending writers reject VW_ERR_CLOSED. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.writers?.failAll(vwError('VW_ERR_CLOSED', 'audio queue'));
    this.readers?.wakeAll();
  }

  private async waitToWrite(chunk: T, size: number, options: WaitOptions | undefined): Promise<void> {
    const writers = (this.writers ??= new WaiterList());
    const waiter = new Waiter(writers, 'room in the audio queue', options);
    try {
      // Re-check after every wake-up: another producer may have taken the room first.
      while (!(writers.isFirst(waiter) && this.fits(size))) await waiter.park();
      this.enqueue(chunk, size);
    } finally {
      waiter.leave();
    }
  }

  private sizeOf(chunk: T): number {
    const size = this.measure(chunk);
    assertSize(size);
    if (size > this.highWaterMarkMs) throw vwError('VW_ERR_CHUNK_TOO_LARGE', size, this.highWaterMarkMs);
    return size;
  }

  private fits(size: number): boolean {
    return this.queued + size <= this.highWaterMarkMs && this.chunks.length < this.maxChunks;
  }

  private dropOldestFor(size: number): void {
    while (!this.fits(size)) {
      const dropped = this.take();
      if (dropped === undefined) return;
      this.onDrop?.(dropped);
    }
  }

  private enqueue(chunk: T, size: number): void {
    this.chunks.push(chunk);
    this.sizes.push(size);
    this.queued += size;
    if (this.readers !== undefined && this.readers.size > 0) this.readers.wakeAll();
  }

  private take(): T | undefined {
    const chunk = this.chunks.shift();
    if (chunk === undefined) return undefined;
    const size = this.sizes.shift() ?? 0;
    // Reset to exactly 0 when empty so float error in the running total cannot accumulate.
    this.queued = this.chunks.length === 0 ? 0 : Math.max(0, this.queued - size);
    if (this.writers !== undefined && this.writers.size > 0) this.writers.wakeAll();
    return chunk;
  }
}

function durationOf<T>(chunk: T): number {
  return (chunk as SizedChunk).durationMs;
}
