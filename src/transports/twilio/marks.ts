/**
 * Names of the marks the Twilio adapter sends. Twilio echoes a mark's name when all audio before
 * it has played, or at once when a `clear` flushes it, so the name must carry everything needed
 * to judge the echo on its own: `vw:<epoch>:<seq>:<positionMs>[:s<sentenceId>]`.
 *
 * - `epoch`: the playback epoch the audio before the mark belonged to;
 * - `seq`: a per-connection counter, so echoes of marks sent before a `clear` can be recognised
 *   even when the session clears without advancing the epoch;
 * - `positionMs`: cumulative ms of the epoch's audio sent before the mark (whole ms, rounded down
 *   so a confirmation never claims more than was sent);
 * - `s<sentenceId>`: present on the mark that ends a sentence.
 */

export interface MarkInfo {
  readonly epoch: number;
  readonly seq: number;
  readonly positionMs: number;
  readonly sentenceId?: number;
}

const PREFIX = 'vw:';
/** Digits are bounded so every field stays a safe integer; a name outside this shape is not ours. */
const MARK_NAME = /^vw:(0|[1-9][0-9]{0,14}):(0|[1-9][0-9]{0,14}):(0|[1-9][0-9]{0,14})(?::s(0|[1-9][0-9]{0,14}))?$/;

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value < 1e15;
}

/**
 * The mark name for `info`. Throws a RangeError for a negative, fractional or huge field: that is
 * a bug in the caller, not input from the wire. `positionMs` is rounded down to whole ms.
 */
export function encodeMarkName(info: MarkInfo): string {
  const positionMs = Math.floor(info.positionMs);
  if (!isCount(info.epoch) || !isCount(info.seq) || !isCount(positionMs)) {
    throw new RangeError(`invalid mark fields epoch=${info.epoch} seq=${info.seq} positionMs=${info.positionMs}`);
  }
  const base = `${PREFIX}${info.epoch}:${info.seq}:${positionMs}`;
  if (info.sentenceId === undefined) return base;
  if (!isCount(info.sentenceId)) throw new RangeError(`invalid sentenceId ${info.sentenceId}`);
  return `${base}:s${info.sentenceId}`;
}

/** The fields of one of our mark names, or undefined for any other name (never trusted). */
export function parseMarkName(name: string): MarkInfo | undefined {
  if (!name.startsWith(PREFIX) || name.length > 80) return undefined;
  const match = MARK_NAME.exec(name);
  if (match === null) return undefined;
  const info = { epoch: Number(match[1]), seq: Number(match[2]), positionMs: Number(match[3]) };
  return match[4] === undefined ? info : { ...info, sentenceId: Number(match[4]) };
}
