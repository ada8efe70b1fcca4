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
}

/** One run's figures, as recorded in bench/results/netimpair.json. */
export interface RunFigures {
  readonly run: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly underruns?: number;
  readonly underrunMs?: number;
  readonly longestUnderrunMs?: number;
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
}

/** The median of `values` (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
