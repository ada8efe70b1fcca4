/**
 * The played-ACK gate of one response: sentence N+2 is not synthesised (so not sent) before the
 * caller confirmed sentence N played. At most one synthesised sentence then waits ahead of the one
 * playing, so a barge-in never has more than that to drop, and the caller's ACKs — not our
 * synthesis speed — pace the response.
 */
import { vwError } from '../../errors.js';
import { abortReason } from './abortable.js';

interface Waiter {
  readonly sentenceId: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export interface PlayedWaitOptions {
  readonly signal?: AbortSignal;
  /** VW_ERR_DEADLINE after this many ms (the sentence's duration + a grace period). */
  readonly timeoutMs: number;
}

export class PlayedGate {
  /** Highest sentence id confirmed played (−1: none yet). Sentences play in order. */
  private played = -1;
  /** At most one waiter in practice (the TTS stage); a Set keeps it general and bounded by callers. */
  private readonly waiters = new Set<Waiter>();

  get playedThrough(): number {
    return this.played;
  }

  /** The caller confirmed every sample of `sentenceId` (so of every earlier one) played. */
  markPlayed(sentenceId: number): void {
    if (!Number.isInteger(sentenceId) || sentenceId <= this.played) return;
    this.played = sentenceId;
    for (const waiter of [...this.waiters]) if (waiter.sentenceId <= this.played) waiter.resolve();
  }

  /** Resolves once `sentenceId` has played (at once for a negative id or one already played). */
  waitPlayed(sentenceId: number, options: PlayedWaitOptions): Promise<void> {
    if (sentenceId <= this.played) return Promise.resolve();
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const waiters = this.waiters;
      const timer = setTimeout(
        () => waiter.reject(vwError('VW_ERR_DEADLINE', Math.round(timeoutMs), `played-ACK of sentence ${sentenceId}`)),
        timeoutMs,
      );
      const waiter: Waiter = {
        sentenceId,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      function onAbort(): void {
        waiter.reject(abortReason(signal as AbortSignal));
      }
      function cleanup(): void {
        waiters.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
    });
  }
}
