/**
 * A deadline for a sender's waits, measured from the start of the current wait, on one timer that
 * outlives the waits. A sender that waits once per piece (OutboundAudio's pump, held for credit)
 * would otherwise pay a setTimeout and a clearTimeout per piece: here the timer armed by one wait
 * stays when it ends, and when it fires it checks the wait in progress, if any, and re-arms for
 * what is left of it. So a steady sender arms about one timer per deadline period, not per wait.
 */
import { assertSize } from './sizes.js';

/** setTimeout's largest delay; a longer deadline counts as none (as for every wait, see waiters.ts). */
const MAX_TIMER_MS = 2_147_483_647;

export class WaitDeadline {
  private timer: NodeJS.Timeout | undefined;
  /** Start of the wait in progress (by `now`); undefined between waits. */
  private since: number | undefined;

  /**
   * @param ms how long one wait may last (> 2^31 − 1 ms: no deadline).
   * @param now the clock waits are measured on (the timer is re-armed by it, so it must move with real time).
   * @param expired called once when a wait has lasted `ms`; the wait is over then.
   */
  constructor(
    private readonly ms: number,
    private readonly now: () => number,
    private readonly expired: () => void,
  ) {
    assertSize(ms);
  }

  /** True while a wait is in progress. */
  get waiting(): boolean {
    return this.since !== undefined;
  }

  /** A wait begins now; a wait in progress keeps its start. */
  begin(): void {
    if (this.since !== undefined) return;
    this.since = this.now();
    if (this.timer === undefined && this.ms <= MAX_TIMER_MS) this.timer = setTimeout(this.onTimer, this.ms);
  }

  /** The wait is over (its timer stays armed for the next one: see the module comment). */
  end(): void {
    this.since = undefined;
  }

  /** No more waits: the timer is released. */
  cancel(): void {
    this.since = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.since === undefined) return; // between waits: the next one arms again
    const left = this.ms - (this.now() - this.since);
    if (left > 0) {
      this.timer = setTimeout(this.onTimer, Math.ceil(left)); // a later wait than the one that armed it
      return;
    }
    this.since = undefined;
    this.expired();
  };
}
