/**
 * A bounded FIFO of bytes in one circular buffer: the audio one call has queued, held in one
 * allocation instead of one buffer (and its wrapper objects) per piece, so what waits for the
 * caller is bytes, not young objects that survive scavenges and get promoted.
 *
 * Bytes are addressed by logical position (the count of bytes ever pushed), so a reader that keeps
 * `(position, length)` finds its bytes wherever the buffer has grown or wrapped, and a position
 * from before a `clear()` is simply behind the head. The buffer starts empty, grows by doubling up
 * to `maxBytes` (a push beyond it is a RangeError: the owner's queue bounds what it pushes), and
 * `releaseStorage()` / `clear()` give the memory back, so an idle owner holds nothing.
 */
const EMPTY = new Uint8Array(0);

export class ByteRing {
  /**
   * The storage. A plain Uint8Array, not a Buffer: its views are what the owner hands out, and a
   * Buffer's `slice()` would be a view too (audio/base64.ts encodes either without a copy).
   */
  private buffer = EMPTY;
  /** Where the copy of a run that crosses the wrap point is made (reused). */
  private scratch = EMPTY;
  /** Logical position of the oldest byte kept, and its index in `buffer`. */
  private head = 0;
  private headIndex = 0;
  /** Logical position after the newest byte. */
  private tail = 0;

  /**
   * @param maxBytes most bytes ever held at once (the storage never grows beyond it).
   * @param minBytes the first allocation (avoids a string of doublings from a few bytes).
   */
  constructor(readonly maxBytes: number, private readonly minBytes = 1024) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a whole number ≥ 1 (got ${maxBytes})`);
  }

  /** Bytes held. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Bytes of storage allocated now (the buffer and the wrap scratch). */
  get storageBytes(): number {
    return this.buffer.length + this.scratch.length;
  }

  /** Copies `bytes` in after the newest byte (one copy; two across the wrap point); returns their position. */
  push(bytes: Uint8Array): number {
    const position = this.tail;
    const count = bytes.length;
    if (count === 0) return position;
    if (this.length + count > this.buffer.length) this.grow(this.length + count);
    const capacity = this.buffer.length;
    let index = this.headIndex + this.length;
    if (index >= capacity) index -= capacity;
    const first = capacity - index;
    if (count <= first) {
      this.buffer.set(bytes, index);
    } else {
      this.buffer.set(bytes.subarray(0, first), index);
      this.buffer.set(bytes.subarray(first), 0);
    }
    this.tail += count;
    return position;
  }

  /**
   * The `length` bytes at `position` (held: at or after the head, before the tail) as one view,
   * valid until the next call on the ring: of the storage itself when they are contiguous, else a
   * copy in the reused scratch.
   */
  view(position: number, length: number): Uint8Array {
    if (position < this.head || position + length > this.tail || length < 0) {
      throw new RangeError(`bytes ${position}+${length} are not held (${this.head}..${this.tail})`);
    }
    const capacity = this.buffer.length;
    let index = this.headIndex + (position - this.head);
    if (index >= capacity) index -= capacity;
    if (index + length <= capacity) return this.buffer.subarray(index, index + length);
    if (this.scratch.length < length) this.scratch = new Uint8Array(length);
    const first = capacity - index;
    this.scratch.set(this.buffer.subarray(index, capacity), 0);
    this.scratch.set(this.buffer.subarray(0, length - first), first);
    return this.scratch.subarray(0, length);
  }

  /** The bytes before `position` are no longer needed (a position at or behind the head: nothing to do). */
  release(position: number): void {
    if (position <= this.head) return;
    const to = Math.min(position, this.tail);
    this.headIndex += to - this.head;
    if (this.headIndex >= this.buffer.length) this.headIndex -= this.buffer.length;
    this.head = to;
    if (this.head === this.tail) this.headIndex = 0; // empty: the next run starts at the beginning
  }

  /** Forgets the bytes from `position` on (a push its owner could not queue after all). */
  truncate(position: number): void {
    if (position < this.head || position >= this.tail) return;
    this.tail = position;
    if (this.head === this.tail) this.headIndex = 0;
  }

  /** Gives the storage back when nothing is held (the owner went idle). */
  releaseStorage(): void {
    if (this.length > 0) return;
    this.buffer = EMPTY;
    this.scratch = EMPTY;
    this.headIndex = 0;
  }

  /** Drops every byte held and the storage (positions from before are behind the head from now on). */
  clear(): void {
    this.head = this.tail;
    this.releaseStorage();
  }

  /** Storage for at least `needed` bytes (≤ maxBytes), the held bytes moved to its start. */
  private grow(needed: number): void {
    if (needed > this.maxBytes) throw new RangeError(`byte ring over its bound: ${needed} > ${this.maxBytes} bytes`);
    let capacity = Math.max(this.buffer.length * 2, this.minBytes);
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(Math.min(capacity, this.maxBytes));
    const held = this.length;
    const old = this.buffer;
    const first = Math.min(held, old.length - this.headIndex);
    if (held > 0) {
      next.set(old.subarray(this.headIndex, this.headIndex + first), 0);
      if (first < held) next.set(old.subarray(0, held - first), first);
    }
    this.buffer = next;
    this.headIndex = 0;
  }
}
