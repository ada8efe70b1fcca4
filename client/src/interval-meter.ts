/**
 * Mean and max interval between events while a condition holds (played reports while audio
 * plays). Constant memory. Pure: time is passed in.
 */
export class IntervalMeter {
  private last: number | undefined;
  private sum = 0;
  private count = 0;
  private maxValue = 0;

  /** An event at `now` (ms). Intervals are measured only between events of one run. */
  note(now: number): void {
    if (this.last !== undefined) {
      const interval = now - this.last;
      this.sum += interval;
      this.count++;
      if (interval > this.maxValue) this.maxValue = interval;
    }
    this.last = now;
  }

  /** The run ended (playback stopped): the next event starts a new run. */
  pause(): void {
    this.last = undefined;
  }

  get meanMs(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }

  get maxMs(): number | undefined {
    return this.count === 0 ? undefined : this.maxValue;
  }

  get intervals(): number {
    return this.count;
  }
}
