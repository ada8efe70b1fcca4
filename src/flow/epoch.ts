/**
 * Epochs: each response (and each interruption) gets a new number; audio and ACKs of an older
 * epoch are recognised and dropped. A number, not a flag, because late messages of an old epoch
 * can still arrive after two interruptions in a row.
 */
import { vwError } from '../errors.js';

export class EpochClock {
  private value: number;

  constructor(start = 0) {
    if (!Number.isSafeInteger(start) || start < 0) throw vwError('VW_ERR_INVALID_SIZE', String(start));
    this.value = start;
  }

  get current(): number {
    return this.value;
  }

  /** Start a new epoch and return it. */
  advance(): number {
    return ++this.value;
  }

  isCurrent(epoch: number): boolean {
    return epoch === this.value;
  }

  /** True when `epoch` is older than the current one (stale). */
  isStale(epoch: number): boolean {
    return epoch < this.value;
  }
}
