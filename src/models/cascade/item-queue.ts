/**
 * A bounded FIFO counted in items — the text queue between the reasoning stage and TTS, bounded
 * in sentences. It is src/flow/audio-queue.ts's AudioQueue with every item sized 1, so it has the
 * same WHATWG vocabulary and waiting rules: `highWaterMark`, `desiredSize`, `abort(reason)` (drop,
 * reject waiters), `close()` (drain, then end). A full queue makes `write()` wait, which is how a
 * slow TTS pauses the LLM stream reader.
 *
 * What this wrapper adds to the flow's queue keeps the cascade's contract as it was: a whole-number
 * bound (RangeError otherwise), `maxLength`, a wait ended by a signal rejects with the signal's
 * reason, and an already-aborted signal does not stop an operation that needs no wait.
 */
import { AudioQueue, type WaitOptions } from '../../flow/audio-queue.js';
import { signalReasonFor } from './abortable.js';

export class ItemQueue<T> {
  readonly highWaterMark: number;
  private readonly queue: AudioQueue<T>;
  /** Deepest the queue has been when a write returned (for tests and metrics). */
  maxLength = 0;

  constructor(highWaterMark: number) {
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
      throw new RangeError(`highWaterMark must be a whole number ≥ 1 (got ${highWaterMark})`);
    }
    this.highWaterMark = highWaterMark;
    this.queue = new AudioQueue<T>({ highWaterMarkMs: highWaterMark, maxChunks: highWaterMark, size: countOne });
  }

  get length(): number {
    return this.queue.length;
  }

  get desiredSize(): number {
    return this.queue.desiredSize;
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  /** Enqueues `item`, waiting while the queue is full. Rejects VW_ERR_CLOSED after close(). */
  async write(item: T, options: WaitOptions = {}): Promise<void> {
    if (options.signal?.aborted && this.queue.tryWrite(item)) return this.noteLength();
    const written = this.queue.write(item, options);
    // Without a wait the item is queued by now; note the depth before a reader can take it.
    this.noteLength();
    try {
      await written;
    } catch (err) {
      throw signalReasonFor(err, options.signal);
    }
    this.noteLength();
  }

  /** The next item; waits while empty; `undefined` once closed and drained. */
  async read(options: WaitOptions = {}): Promise<T | undefined> {
    if (options.signal?.aborted && (this.queue.length > 0 || this.queue.closed)) return this.queue.tryRead();
    try {
      return await this.queue.read(options);
    } catch (err) {
      throw signalReasonFor(err, options.signal);
    }
  }

  /** Drops everything queued and rejects every waiter with VW_ERR_ABORTED; returns items dropped. */
  abort(reason: string): number {
    return this.queue.abort(reason);
  }

  /** No more writes: readers drain what is queued, then get undefined; waiting writers reject VW_ERR_CLOSED. */
  close(): void {
    this.queue.close();
  }

  private noteLength(): void {
    if (this.queue.length > this.maxLength) this.maxLength = this.queue.length;
  }
}

function countOne(): number {
  return 1;
}
