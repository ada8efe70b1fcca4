/**
 * One interval timer for many per-call jobs of the same period: a thousand calls cost one timer
 * wake-up per period instead of a thousand. A job is added when it has work and removed when it has
 * none, so an idle process has no timer at all. The timer never keeps the process alive (unref).
 */
export type Tick = (now: number) => void;

export class SharedTicker {
  private readonly jobs = new Set<Tick>();
  private timer: NodeJS.Timeout | undefined;

  /** @param periodMs how often every job runs while registered. */
  constructor(readonly periodMs: number) {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new RangeError(`periodMs must be a finite number > 0 (got ${periodMs})`);
  }

  /** Jobs registered now. */
  get size(): number {
    return this.jobs.size;
  }

  /** Runs `job` every period from now on, until `delete(job)`. Adding it twice runs it once. */
  add(job: Tick): void {
    this.jobs.add(job);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.runAll(), this.periodMs);
      this.timer.unref();
    }
  }

  delete(job: Tick): void {
    this.jobs.delete(job);
    if (this.jobs.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** @internal (and for tests): runs every job once. Jobs must not throw (as any timer callback). */
  runAll(now: number = performance.now()): void {
    for (const job of this.jobs) job(now);
  }
}
