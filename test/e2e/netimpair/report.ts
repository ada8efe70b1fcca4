/**
 * What the two sides of the netimpair test report to the parent over stdout (one JSON object per
 * line), shared so the parent reads exactly what the children write.
 */
import type { SessionSample } from '../../../src/session/observer.js';

/** Largest values seen in any call's snapshot. */
export interface FlowMax {
  readonly queuedMs: number;
  readonly callerBufferedMs: number;
  readonly transportBufferedBytes: number;
  readonly modelBufferedBytes: number;
  readonly creditMs: number;
  readonly windowMs: number;
}

export function emptyMax(): FlowMax {
  return { queuedMs: 0, callerBufferedMs: 0, transportBufferedBytes: 0, modelBufferedBytes: 0, creditMs: 0, windowMs: 0 };
}

export function foldMax(max: FlowMax, s: SessionSample): FlowMax {
  return {
    queuedMs: Math.max(max.queuedMs, s.queuedMs),
    callerBufferedMs: Math.max(max.callerBufferedMs, s.callerBufferedMs),
    transportBufferedBytes: Math.max(max.transportBufferedBytes, s.transportBufferedBytes),
    modelBufferedBytes: Math.max(max.modelBufferedBytes, s.modelBufferedBytes),
    creditMs: Math.max(max.creditMs, s.creditMs),
    windowMs: Math.max(max.windowMs, s.windowMs),
  };
}

/** The gateway side's last line. */
export interface GatewayFinal {
  readonly type: 'final';
  readonly why: string;
  readonly max: FlowMax;
  /** Largest kernel Send-Q of a caller socket seen by `ss` every 250 ms (bytes; sampled, so a floor). */
  readonly kernelSendQMax: number;
  /** Lines printed (every 100 ms) and how many of them saw a live call. */
  readonly samples: number;
  readonly callSamples: number;
  readonly model: {
    readonly responses: readonly { status: string; reason: string | null; audioMs: number }[];
    readonly cancels: readonly { active: boolean }[];
    readonly truncates: readonly { audioEndMs: number; ok: boolean }[];
    readonly speechStarts: number;
  };
}

/** The caller side's result line. */
export interface CallerResult {
  readonly type: 'result';
  readonly answer: {
    /** Audio of the first answer played (ms); the whole answer is 20 000 ms. */
    readonly playedMs: number;
    /** From the question to the end of the wait (ms, caller clock). */
    readonly tookMs: number;
    readonly underrunsWhileSpeaking: number;
    readonly underrunMsWhileSpeaking: number;
    readonly longestUnderrunMs: number;
    /** Largest ms buffered at the caller during the first answer. */
    readonly maxBufferedMs: number;
  };
  readonly bargeIn: {
    /** Second answer's audio played when the caller began speaking (ms). */
    readonly playedBeforeMs: number;
    /** Caller began speaking → `clear` arrived (ms). */
    readonly clearAfterMs: number;
    /** Audio heard after the caller began speaking, measured when the clear arrived (ms). */
    readonly staleMs: number;
    /** Answer 2's audio played when the clear arrived (ms): what its truncation should say. */
    readonly heardAtClearMs: number;
    /** Buffered audio the clear dropped (ms). */
    readonly clearedMs: number;
    /** Epoch of the last mark before the clear (the interrupted answer's). */
    readonly oldEpoch: number | undefined;
    /** Audio received after the clear whose mark carried the old epoch (ms); must be 0 (−1: no mark before the clear). */
    readonly oldEpochAudioAfterClearMs: number;
    /** Whether audio of a later epoch (the next answer) arrived before the caller stopped. */
    readonly newEpochSeen: boolean;
  };
  /** Largest ms buffered at the caller over the whole call. */
  readonly maxBufferedMs: number;
  readonly underrunsTotal: number;
  readonly violations: readonly { kind: string; detail: string }[];
  readonly socketErrors: number;
}

/** Parses one stdout line of a child; undefined for anything that is not a JSON object with a `type`. */
export function parseLine(line: string): ({ type: string } & Record<string, unknown>) | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') {
      return value as { type: string } & Record<string, unknown>;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
