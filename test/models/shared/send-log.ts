/** What a pump under test sent, and a wait for the count to reach N (woken by each send, with a deadline). */
export class SendLog<T> {
  readonly entries: T[] = [];
  private waiters: Array<() => void> = [];

  /** Records one send and wakes the waits. */
  push(entry: T): void {
    this.entries.push(entry);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once `count` sends were recorded; rejects after `timeoutMs`. */
  whenCount(count: number, timeoutMs = 2000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.entries.length} of ${count} sent`)), timeoutMs);
      const check = (): void => {
        if (this.entries.length >= count) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
}
