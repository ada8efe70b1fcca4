/**
 * What a session reports to whoever watches it (the server's metrics, tests). The session knows
 * nothing of Prometheus: imports point downward.
 */
import type { TokenUsage } from '../models/model.js';
import type { CallStart } from '../transports/transport.js';
import type { WindowChange } from '../flow/window-tuner.js';

export interface SessionSample {
  readonly creditMs: number;
  readonly windowMs: number;
  /** Audio sent but not yet confirmed played by the caller (ms). */
  readonly callerBufferedMs: number;
  /** Model audio waiting in the gateway for credit (ms). */
  readonly queuedMs: number;
  readonly epoch: number;
  readonly transportBufferedBytes: number;
  readonly modelBufferedBytes: number;
}

/** How the truncation point was settled (session/truncation.ts). */
export type BargeInTrigger = 'model' | 'local';
export type TruncateSource = 'marker' | 'deadline' | 'superseded' | 'nothing-sent' | 'at-barge-in';

/**
 * A barge-in, reported once its truncation point is settled: when the caller confirmed the clear
 * (`marker`), or at the deadline, or when something came first.
 */
export interface BargeInReport {
  /** What started it: the model's speech start, or the gateway's own VAD (`LOCAL_BARGE_IN_MS`). */
  readonly trigger: BargeInTrigger;
  /** Model audio dropped from the queue (ms). */
  readonly droppedMs: number;
  /** Position the caller had heard of the interrupted audio when the clear reached it (ms). */
  readonly heardMs: number;
  /** Truncation point minus the last confirmed played position (ms): the interpolated part. */
  readonly truncateUncertaintyMs: number;
  /** How the point was settled. */
  readonly truncateSource: TruncateSource;
  /** The estimate at the barge-in itself (ms): what audio playing during the clear's trip adds to it is heardMs minus this. */
  readonly estimateAtBargeInMs: number;
  /** Barge-in → truncation point settled (ms). */
  readonly settledAfterMs: number;
  /** The model item truncated and where, when one was playing. */
  readonly truncate: { readonly itemId: string; readonly audioEndMs: number } | undefined;
  /** The epoch that starts with the clear. */
  readonly epoch: number;
}

/**
 * The caller confirmed the `clear` of a barge-in: the first played report of the new epoch (the
 * media-stream carriers echo a mark sent right behind the clear once their buffer is flushed).
 */
export interface SilenceReport {
  readonly epoch: number;
  /** `clear` sent → the caller's confirmation arrived (ms). */
  readonly clearToSilenceMs: number;
  /** Speech start seen by the gateway → the caller's confirmation (ms). */
  readonly bargeInToSilenceMs: number;
}

/** The first audio of an answer was played at the caller. */
export interface FirstAudioReport {
  readonly responseId: string | undefined;
  /** Caller speech end (the model's speechStopped) → first answer audio played at the caller (ms). */
  readonly firstAudioMs: number;
}

/** How a call ended. */
export interface EndReport {
  readonly reason: string;
  /** VW_ERR_* code when the call ended on an error. */
  readonly code: string | undefined;
  /** WebSocket close code of the caller's connection (ours, or the caller's). */
  readonly closeCode: number | undefined;
  /** Call start → end (ms); 0 if the call never started. */
  readonly durationMs: number;
}

export type DropReason = 'interrupted' | 'queue-cap' | 'barge-in';

export interface SessionObserver {
  /** The caller's start arrived (before the per-call setup, if any). */
  starting?(info: CallStart): void;
  /** The model and the audio path exist (after setup). */
  started?(info: CallStart, backend: string, windowMs: number): void;
  sample?(sample: SessionSample): void;
  /** A barge-in began (before `speechStarted`); its report follows once the truncation point is settled. */
  bargeInStarted?(epoch: number): void;
  bargeIn?(report: BargeInReport): void;
  /** The caller confirmed that a barge-in's clear took effect. */
  silenced?(report: SilenceReport): void;
  speechStarted?(): void;
  /** A local barge-in (the gateway's VAD) was settled: the model heard the caller too, or not in time. */
  localBargeIn?(confirmed: boolean): void;
  speechStopped?(): void;
  responseStarted?(responseId: string): void;
  /** `usage`: the model's token counts for this response, when it reported them. */
  responseDone?(responseId: string, status: string, usage?: TokenUsage): void;
  /** Caller speech end → model response started (ms). */
  turnLatency?(responseId: string, ms: number): void;
  firstAudio?(report: FirstAudioReport): void;
  /** The adaptive credit window changed (`CREDIT_WINDOW_MS=auto`). */
  windowChanged?(change: WindowChange): void;
  /** The caller's player ran dry in the middle of an answer `count` more times (the gateway's estimate). */
  underruns?(count: number): void;
  dropped?(reason: DropReason, ms: number): void;
  responseCancelled?(reason: string): void;
  badInput?(code: string): void;
  modelError?(code: string): void;
  /** Text the model said (for the browser's live transcript). */
  transcript?(responseId: string, text: string): void;
  ended?(report: EndReport): void;
}

/**
 * Reports every event to `first`, then to `second`. One per call and combination, so a class:
 * its methods live on the prototype instead of twenty closures per call.
 */
export class ObserverPair implements SessionObserver {
  constructor(
    private readonly first: SessionObserver,
    private readonly second: SessionObserver,
  ) {}

  starting(info: CallStart): void {
    this.first.starting?.(info);
    this.second.starting?.(info);
  }
  started(info: CallStart, backend: string, windowMs: number): void {
    this.first.started?.(info, backend, windowMs);
    this.second.started?.(info, backend, windowMs);
  }
  sample(sample: SessionSample): void {
    this.first.sample?.(sample);
    this.second.sample?.(sample);
  }
  bargeInStarted(epoch: number): void {
    this.first.bargeInStarted?.(epoch);
    this.second.bargeInStarted?.(epoch);
  }
  bargeIn(report: BargeInReport): void {
    this.first.bargeIn?.(report);
    this.second.bargeIn?.(report);
  }
  silenced(report: SilenceReport): void {
    this.first.silenced?.(report);
    this.second.silenced?.(report);
  }
  speechStarted(): void {
    this.first.speechStarted?.();
    this.second.speechStarted?.();
  }
  localBargeIn(confirmed: boolean): void {
    this.first.localBargeIn?.(confirmed);
    this.second.localBargeIn?.(confirmed);
  }
  speechStopped(): void {
    this.first.speechStopped?.();
    this.second.speechStopped?.();
  }
  responseStarted(responseId: string): void {
    this.first.responseStarted?.(responseId);
    this.second.responseStarted?.(responseId);
  }
  responseDone(responseId: string, status: string, usage?: TokenUsage): void {
    this.first.responseDone?.(responseId, status, usage);
    this.second.responseDone?.(responseId, status, usage);
  }
  turnLatency(responseId: string, ms: number): void {
    this.first.turnLatency?.(responseId, ms);
    this.second.turnLatency?.(responseId, ms);
  }
  firstAudio(report: FirstAudioReport): void {
    this.first.firstAudio?.(report);
    this.second.firstAudio?.(report);
  }
  windowChanged(change: WindowChange): void {
    this.first.windowChanged?.(change);
    this.second.windowChanged?.(change);
  }
  underruns(count: number): void {
    this.first.underruns?.(count);
    this.second.underruns?.(count);
  }
  dropped(reason: DropReason, ms: number): void {
    this.first.dropped?.(reason, ms);
    this.second.dropped?.(reason, ms);
  }
  responseCancelled(reason: string): void {
    this.first.responseCancelled?.(reason);
    this.second.responseCancelled?.(reason);
  }
  badInput(code: string): void {
    this.first.badInput?.(code);
    this.second.badInput?.(code);
  }
  modelError(code: string): void {
    this.first.modelError?.(code);
    this.second.modelError?.(code);
  }
  transcript(responseId: string, text: string): void {
    this.first.transcript?.(responseId, text);
    this.second.transcript?.(responseId, text);
  }
  ended(report: EndReport): void {
    this.first.ended?.(report);
    this.second.ended?.(report);
  }
}
