/**
 * Latencies measured where the caller is, from the caller's own played reports rather than from
 * our code: time to first audio (caller speech end → first answer audio played at the caller) and
 * barge-in → silence (the caller's confirmation of the `clear`). No I/O; the session feeds it
 * events with their times and reports what it returns.
 */
import type { FirstAudioReport, SilenceReport } from './observer.js';

interface PendingClear {
  readonly epoch: number;
  readonly speechAt: number;
  readonly clearAt: number;
}

interface PendingTurn {
  readonly stoppedAt: number;
  readonly epoch: number;
  /** Played position of `epoch` when the caller stopped speaking. */
  readonly baselineMs: number;
  responseId: string | undefined;
  responseAt: number | undefined;
}

export class CallerTimings {
  private pendingClear: PendingClear | undefined;
  private turn: PendingTurn | undefined;
  private playedEpoch = 0;
  private playedMs = 0;

  /** The caller stopped speaking (the model's speechStopped). */
  speechStopped(at: number): void {
    this.turn = { stoppedAt: at, epoch: this.playedEpoch, baselineMs: this.playedMs, responseId: undefined, responseAt: undefined };
  }

  /** The model started answering; returns caller speech end → response start (ms) once per turn. */
  responseStarted(responseId: string, at: number): number | undefined {
    const turn = this.turn;
    if (turn === undefined || turn.responseId !== undefined) return undefined;
    turn.responseId = responseId;
    turn.responseAt = at;
    return at - turn.stoppedAt;
  }

  /** A barge-in sent `clear`; the epoch `epoch` starts with it. */
  cleared(epoch: number, speechAt: number, clearAt: number): void {
    this.pendingClear = { epoch, speechAt, clearAt };
  }

  /**
   * A played report of `epoch` at `positionMs`, received at `at`. Returns the silence report when
   * it confirms a pending clear, and the first-audio report when it is the first answer audio
   * played after the caller stopped speaking.
   */
  played(epoch: number, positionMs: number, at: number): { silence?: SilenceReport; firstAudio?: FirstAudioReport } {
    const result: { silence?: SilenceReport; firstAudio?: FirstAudioReport } = {};
    const clear = this.pendingClear;
    if (clear !== undefined && epoch >= clear.epoch) {
      this.pendingClear = undefined;
      result.silence = { epoch: clear.epoch, clearToSilenceMs: at - clear.clearAt, bargeInToSilenceMs: at - clear.speechAt };
    }
    if (epoch > this.playedEpoch || (epoch === this.playedEpoch && positionMs > this.playedMs)) {
      this.playedEpoch = epoch;
      this.playedMs = positionMs;
    }
    const turn = this.turn;
    if (turn !== undefined && turn.responseAt !== undefined) {
      const start = epoch === turn.epoch ? turn.baselineMs : epoch > turn.epoch ? 0 : Infinity;
      if (positionMs > start) {
        // The report confirms `positionMs - start` ms of the answer: its first sample started
        // playing that long before the report (never before the answer existed).
        const firstPlayedAt = Math.max(turn.responseAt, at - (positionMs - start));
        this.turn = undefined;
        result.firstAudio = { responseId: turn.responseId, firstAudioMs: firstPlayedAt - turn.stoppedAt };
      }
    }
    return result;
  }
}
