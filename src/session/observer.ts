/**
 * What a session reports to whoever watches it (the server's metrics, tests). The session knows
 * nothing of Prometheus: imports point downward.
 */
import type { CallStart } from '../transports/transport.js';

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

export interface BargeInReport {
  /** Speech start seen by the gateway → `clear` written to the caller's socket (ms). */
  readonly clearLatencyMs: number;
  /** Model audio dropped from the queue (ms). */
  readonly droppedMs: number;
  /** Truncation point minus the last confirmed played position (ms): the interpolated part. */
  readonly truncateUncertaintyMs: number;
}

export type DropReason = 'interrupted' | 'queue-cap' | 'barge-in';

export interface SessionObserver {
  started?(info: CallStart, backend: string): void;
  sample?(sample: SessionSample): void;
  bargeIn?(report: BargeInReport): void;
  dropped?(reason: DropReason, ms: number): void;
  responseCancelled?(reason: string): void;
  badInput?(code: string): void;
  modelError?(code: string): void;
  /** Text the model said (for the browser's live transcript). */
  transcript?(responseId: string, text: string): void;
  ended?(): void;
}
