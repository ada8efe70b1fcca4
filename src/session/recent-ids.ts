/** A set of the last `capacity` ids (oldest forgotten first): bounded memory for "seen before". */
export class RecentIds {
  private readonly ids: string[] = [];
  private readonly set = new Set<string>();
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  add(id: string): void {
    if (this.set.has(id)) return;
    const evicted = this.ids[this.next];
    if (evicted !== undefined) this.set.delete(evicted);
    this.ids[this.next] = id;
    this.set.add(id);
    this.next = (this.next + 1) % this.capacity;
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  get size(): number {
    return this.set.size;
  }
}
