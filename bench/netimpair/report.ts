/** What the netimpair bench's caller reports, and the figures the bench derives per run. */

/** The bench caller's result line (caller clock, ms). */
export interface BenchCallerResult {
  readonly type: 'result';
  /** Question sent → first answer audio played. */
  readonly firstAudioMs: number;
  /** Dry periods while the answer streamed, before the barge-in. */
  readonly underruns: number;
  readonly underrunMs: number;
  readonly longestUnderrunMs: number;
  /** When each dry period began, ms after the answer's first audio played. */
  readonly underrunsAtMs: readonly number[];
  readonly maxBufferedMs: number;
  /** Answer audio played when the caller began speaking. */
  readonly playedAtSpeechMs: number;
  /** Answer audio played when the `clear` arrived: the truth a truncation is judged by. */
  readonly heardAtClearMs: number;
  /** Answer audio heard after the caller began speaking. */
  readonly staleMs: number;
  /** Speech began → clear arrived. */
  readonly clearAfterMs: number;
  /** Buffered audio the clear dropped. */
  readonly clearedMs: number;
  /** Clear → the next answer's first audio played (null: none within 20 s). */
  readonly nextAnswerAfterMs: number | null;
  readonly violations: readonly string[];
  /** Speech began (the interrupting speech queued), on the machine's wall clock (ms). */
  readonly speechStartsAtWall: number;
  /** The clear arrived, on the wall clock (ms). */
  readonly clearAtWall: number;
  /** Latest the caller's 10 ms loop ran (its frames and mark echoes wait for it), ms. */
  readonly maxTickLateMs: number;
  /** After a click (`clickMs`): how the answer resumed. */
  readonly resume?: ResumeFigures;
}

/** A local barge-in's false start, on the caller's clock (ms). */
export interface ResumeFigures {
  /** The clear arrived → the answer played again: what the caller heard of the hold. */
  readonly gapMs: number;
  /** All of the answer the caller played − the answer's length: a repeat is positive, a skip negative. */
  readonly seamMs: number;
  /** Dry periods after the answer resumed, while it streamed. */
  readonly underruns: number;
  readonly longestUnderrunMs: number;
}

/**
 * Where one barge-in's stale time went (ms), on the wall clock: caller speech start → gateway got
 * the first loud frame (uplink + frame pacing) → the fake model's VAD fired (it needs 100 ms of
 * speech) → the gateway got speech_started → wrote the clear → the clear reached the caller.
 * A local barge-in (`trigger: 'local'`, LOCAL_BARGE_IN_MS): `vadMs` is the gateway's own VAD, first
 * loud frame → clear written, and the two model spans are null.
 */
export interface StaleBreakdown {
  readonly trigger: 'model' | 'local';
  readonly toGatewayMs: number | null;
  readonly vadMs: number | null;
  readonly vadToGatewayMs: number | null;
  readonly clearWriteMs: number | null;
  readonly clearToCallerMs: number;
}

/** One run's figures, as recorded in bench/results/netimpair.json. */
export interface RunFigures {
  readonly run: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly underruns?: number;
  readonly underrunMs?: number;
  readonly longestUnderrunMs?: number;
  readonly underrunsAtMs?: readonly number[];
  /** Question sent → first answer audio played (caller clock). */
  readonly firstAudioMs?: number;
  readonly maxBufferedMs?: number;
  readonly staleMs?: number;
  readonly heardAtClearMs?: number;
  /** The truncation point the model got (audio_end_ms). */
  readonly truncateMs?: number;
  /** truncateMs − heardAtClearMs. */
  readonly truncateErrorMs?: number;
  /** How the gateway settled it (marker, deadline, …). */
  readonly truncateSource?: string;
  /** The gateway's interpolated part (truncation point − last confirmed position). */
  readonly uncertaintyMs?: number;
  readonly clearAfterMs?: number;
  readonly nextAnswerAfterMs?: number | null;
  readonly violations?: readonly string[];
  readonly stale?: StaleBreakdown;
  readonly maxTickLateMs?: number;
  readonly resume?: ResumeFigures;
}

/** The breakdown from the caller's wall times and the gateway's stamps (null where one is missing). */
export function staleBreakdown(
  caller: Pick<BenchCallerResult, 'speechStartsAtWall' | 'clearAtWall'>,
  gateway: { loudAt?: number | null; vadAt?: number | null; speechStartedAt?: number | null; clearWrittenAt: number },
): StaleBreakdown {
  const span = (from: number | null | undefined, to: number | null | undefined): number | null =>
    from === null || from === undefined || to === null || to === undefined ? null : Math.round((to - from) * 10) / 10;
  // No model speech start before the clear: the gateway's own VAD barged in (LOCAL_BARGE_IN_MS).
  const local = gateway.speechStartedAt === null || gateway.speechStartedAt === undefined;
  return {
    trigger: local ? 'local' : 'model',
    toGatewayMs: span(caller.speechStartsAtWall, gateway.loudAt),
    vadMs: span(gateway.loudAt, local ? gateway.clearWrittenAt : gateway.vadAt),
    vadToGatewayMs: local ? null : span(gateway.vadAt, gateway.speechStartedAt),
    clearWriteMs: local ? null : span(gateway.speechStartedAt, gateway.clearWrittenAt),
    clearToCallerMs: span(gateway.clearWrittenAt, caller.clearAtWall)!,
  };
}

/** The median of `values` (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
