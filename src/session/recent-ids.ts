/**
 * A set of the last `capacity` ids (oldest forgotten first): bounded memory for "seen before".
 * Its storage is made by the first `add` (a call's set of dropped responses is empty until a
 * barge-in, and most calls have none).
 */
export class RecentIds {
  private ids: string[] | undefined;
  private set: Set<string> | undefined;
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  add(id: string): void {
    const set = (this.set ??= new Set<string>());
    const ids = (this.ids ??= []);
    if (set.has(id)) return;
    const evicted = ids[this.next];
    if (evicted !== undefined) set.delete(evicted);
    ids[this.next] = id;
    set.add(id);
    this.next = (this.next + 1) % this.capacity;
  }

  has(id: string): boolean {
    return this.set?.has(id) ?? false;
  }

  get size(): number {
    return this.set?.size ?? 0;
  }
}
