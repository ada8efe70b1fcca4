/**
 * Waiting for a condition in a fake or a harness without sleeping: `until(check)` resolves as soon
 * as `check()` holds, re-checked whenever the owner calls `notify()` (after each message, tick or
 * event it records); it rejects at its deadline, or at `close()` if still false. Bounded: a test
 * that leaks waits fails loudly instead of growing a list.
 */
interface Pending {
  readonly check: () => boolean;
  readonly what: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Conditions {
  private readonly pending = new Set<Pending>();
  private closedReason: string | undefined;

  /** `label` prefixes every error ("fake twilio: …"). */
  constructor(
    private readonly label: string,
    private readonly maxPending = 64,
  ) {}

  until(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    if (this.closedReason !== undefined) return Promise.reject(new Error(`${this.label}: ${this.closedReason} before ${what}`));
    if (this.pending.size >= this.maxPending) return Promise.reject(new Error(`${this.label}: more than ${this.maxPending} waits at once`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(entry);
        reject(new Error(`${this.label}: ${what} not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry: Pending = { check, what, resolve, reject, timer };
      this.pending.add(entry);
    });
  }

  /** Re-checks every pending condition (call after anything a condition may depend on changed). */
  notify(): void {
    for (const entry of this.pending) {
      if (!entry.check()) continue;
      this.settle(entry);
      entry.resolve();
    }
  }

  /** The observed thing ended: conditions true now resolve, the others reject with `reason`. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const entry of this.pending) {
      this.settle(entry);
      if (entry.check()) entry.resolve();
      else entry.reject(new Error(`${this.label}: ${reason} before ${entry.what}`));
    }
  }

  get size(): number {
    return this.pending.size;
  }

  private settle(entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(entry);
  }
}
