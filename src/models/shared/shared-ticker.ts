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

/** Periods that get a ticker in the process-wide table; a process uses a handful (a bound on the table, not on jobs). */
const MAX_SHARED_PERIODS = 32;
const tickers = new Map<number, SharedTicker>();

/**
 * The process-wide ticker of `periodMs`, for per-call jobs of a fixed period (heartbeats, samples):
 * a timer per call costs ≈ 0.2 KiB of heap and a wake-up per period. A job's first run comes
 * within one period of `add`, not exactly one period after it. Past the table's bound a new
 * period gets a ticker of its own (still correct, just not shared).
 */
export function sharedTicker(periodMs: number): SharedTicker {
  let ticker = tickers.get(periodMs);
  if (ticker === undefined) {
    ticker = new SharedTicker(periodMs);
    if (tickers.size < MAX_SHARED_PERIODS) tickers.set(periodMs, ticker);
  }
  return ticker;
}
