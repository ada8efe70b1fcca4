/**
 * The played-ACK gate of one response: sentence N+2 is not synthesised (so not sent) before the
 * caller confirmed sentence N played. At most one synthesised sentence then waits ahead of the one
 * playing, so a barge-in never has more than that to drop, and the caller's ACKs — not our
 * synthesis speed — pace the response.
 */
import { Waiter, WaiterList } from '../../flow/waiters.js';
import { signalReasonFor } from './abortable.js';

export interface PlayedWaitOptions {
  readonly signal?: AbortSignal;
  /** VW_ERR_DEADLINE after this many ms (the sentence's duration + a grace period). */
  readonly timeoutMs: number;
}

/** setTimeout's largest delay; the gate has always treated anything outside [0, this] as "now". */
const MAX_TIMER_MS = 2_147_483_647;

export class PlayedGate {
  /** Highest sentence id confirmed played (−1: none yet). Sentences play in order. */
  private played = -1;
  /** At most one waiter in practice (the TTS stage); each re-checks its own sentence when woken. */
  private readonly waiters = new WaiterList();

  get playedThrough(): number {
    return this.played;
  }

  /** The caller confirmed every sample of `sentenceId` (so of every earlier one) played. */
  markPlayed(sentenceId: number): void {
    if (!Number.isInteger(sentenceId) || sentenceId <= this.played) return;
    this.played = sentenceId;
    this.waiters.wakeAll();
  }

  /** Resolves once `sentenceId` has played (at once for a negative id or one already played). */
  async waitPlayed(sentenceId: number, options: PlayedWaitOptions): Promise<void> {
    if (sentenceId <= this.played) return;
    // The flow's Waiter refuses a NaN, negative or infinite deadline; this gate has always let
    // such a deadline pass at once, as setTimeout does, so it keeps doing that.
    const { timeoutMs } = options;
    const deadline = timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS ? timeoutMs : 0;
    const waiter = new Waiter(this.waiters, `played-ACK of sentence ${sentenceId}`, { signal: options.signal, timeoutMs: deadline });
    try {
      while (sentenceId > this.played) await waiter.park();
    } catch (err) {
      throw signalReasonFor(err, options.signal);
    } finally {
      waiter.leave();
    }
  }
}
