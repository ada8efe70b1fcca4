/**
 * A FIFO double-ended queue on a power-of-two ring buffer: O(1) push, shift and indexed access,
 * without the O(n) `Array.prototype.shift()` a plain array would pay on every read. Callers bound
 * its length (the ring itself only grows to fit what they keep). The ring is made at the first
 * push, not before: a call holds several queues that are empty most of their life.
 */
const INITIAL_CAPACITY = 16;
/** The ring of an empty deque that never held anything (or was cleared). Never written: push grows first. */
const NO_SLOTS: never[] = [];

export class Deque<T> {
  private slots: Array<T | undefined> = NO_SLOTS;
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = item;
    this.count++;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    // Clear the slot so a dropped chunk's buffer can be collected now, not when the slot is reused.
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  peekLast(): T | undefined {
    return this.count === 0 ? undefined : this.slots[(this.head + this.count - 1) & (this.slots.length - 1)];
  }

  /** The item `index` places from the oldest (0 = oldest); undefined when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.slots[(this.head + index) & (this.slots.length - 1)];
  }

  /** Drops everything and gives the ring back to the allocator. */
  clear(): void {
    this.slots = NO_SLOTS;
    this.head = 0;
    this.count = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.slots[(this.head + i) & (this.slots.length - 1)] as T;
  }

  private grow(): void {
    const old = this.slots;
    const next = new Array<T | undefined>(old.length === 0 ? INITIAL_CAPACITY : old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.slots = next;
    this.head = 0;
  }
}
