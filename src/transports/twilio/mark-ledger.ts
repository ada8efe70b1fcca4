/**
 * Bookkeeping of the marks the Twilio adapter sends, with no I/O: where in an epoch's audio the
 * next mark falls, what each mark is called, and whether an echo confirms playback.
 *
 * Rules:
 * - positions are cumulative bytes of the current epoch; marks never split a media message: a
 *   periodic mark follows the message during which `markEveryBytes` of audio accumulated since the
 *   previous mark (periodic or sentence), at that message's end — or earlier, at the end of a
 *   message after which one more of the same size would take the next mark more than a quarter of
 *   `markEveryBytes` past it (150 ms messages get a mark each instead of one per 300 ms: the
 *   caller's credit runs on predicted playout only a fixed lead past the last echo, 250 ms by
 *   default, so echoes must not grow far apart when messages are long). So two marks are at most
 *   `markEveryBytes` − 1 + one message apart, at most 1.25 × `markEveryBytes` for messages of one
 *   size, and the audio of a message is marked as soon as it
 *   is sent or the next message is; a message sent with a mark right behind it anyway (a sentence
 *   end, an epoch's close) is recorded with `sentBeforeMark`, which never adds a periodic mark;
 * - every mark gets the next per-connection sequence number; a `clear` records the next one, and
 *   any echo with a smaller number was flushed by that clear, not played (Twilio echoes every
 *   pending mark at once on `clear`);
 * - audio of an epoch older than the current one is refused; a newer epoch without a clear first
 *   closes the old one with a mark at its end, so the old epoch's tail can still be confirmed;
 * - a confirmation is news only if it moves past the last one (Twilio echoes in order).
 */
import { encodeMarkName, parseMarkName } from './marks.js';

export type EchoVerdict =
  | {
      readonly kind: 'played';
      readonly epoch: number;
      readonly positionMs: number;
      /** False when the position was already confirmed (e.g. a sentence mark on a periodic one). */
      readonly advanced: boolean;
      readonly sentenceId?: number;
    }
  /**
   * Sent before a clear: flushed, or played just before the clear arrived (its echo crossed the
   * clear on the wire); the name cannot tell which, so it never counts as played here. Its epoch
   * and position are given for the session, which can tell them apart by when they were sent.
   */
  | { readonly kind: 'flushed'; readonly epoch: number; readonly positionMs: number }
  /** Not one of our names, or a sequence number we never used. */
  | { readonly kind: 'unknown' };

export type EnterResult =
  | { readonly ok: false }
  /** `closingMark`: a mark to send before the new epoch's audio (the old epoch's tail). */
  | { readonly ok: true; readonly closingMark: string | undefined };

export class MarkLedger {
  private current = 0;
  private sentBytes = 0;
  private bytesSinceMark = 0;
  private nextSeq = 0;
  private clearedBelowSeq = 0;
  private lastPlayedEpoch = -1;
  private lastPlayedMs = -1;

  constructor(
    private readonly markEveryBytes: number,
    private readonly bytesPerMs: number,
  ) {
    if (!(markEveryBytes >= 1) || !(bytesPerMs > 0)) throw new RangeError('markEveryBytes must be ≥ 1 and bytesPerMs > 0');
  }

  get epoch(): number {
    return this.current;
  }

  /** Bytes of audio of the current epoch sent so far. */
  get positionBytes(): number {
    return this.sentBytes;
  }

  /** Makes `epoch` current if it is not older than the current one. */
  enter(epoch: number): EnterResult {
    if (epoch === this.current) return { ok: true, closingMark: undefined };
    if (epoch < this.current) return { ok: false };
    const closingMark = this.bytesSinceMark > 0 ? this.mark(undefined) : undefined;
    this.current = epoch;
    this.sentBytes = 0;
    this.bytesSinceMark = 0;
    return { ok: true, closingMark };
  }

  /**
   * Records a media message of `bytes` sent in the current epoch; returns the periodic mark to send
   * right after it when the audio since the previous mark reached `markEveryBytes` with it.
   */
  sent(bytes: number): string | undefined {
    this.sentBytes += bytes;
    this.bytesSinceMark += bytes;
    const due = this.bytesSinceMark >= this.markEveryBytes || this.bytesSinceMark + bytes > this.markEveryBytes * 1.25;
    return due ? this.mark(undefined) : undefined;
  }

  /**
   * Records a media message that the caller follows at once with a mark of its own (`sentenceEnd`,
   * or the closing mark of `enter`): no periodic mark, which would fall at the same position.
   */
  sentBeforeMark(bytes: number): void {
    this.sentBytes += bytes;
    this.bytesSinceMark += bytes;
  }

  /** The mark that ends sentence `sentenceId` at the current position. */
  sentenceEnd(sentenceId: number): string {
    return this.mark(sentenceId);
  }

  /** A clear was sent: everything marked so far is flushed; `newEpoch` starts at position 0. */
  clear(newEpoch: number): void {
    this.current = newEpoch;
    this.sentBytes = 0;
    this.bytesSinceMark = 0;
    this.clearedBelowSeq = this.nextSeq;
    this.lastPlayedMs = -1;
  }

  /**
   * A mark at the current position. Sent right behind a `clear` (position 0 of the new epoch), its
   * echo is the caller's confirmation that the clear took effect: the player echoes it once the
   * flushed audio is gone (barge-in → silence, measured at the caller).
   */
  here(): string {
    return this.mark(undefined);
  }

  /** Judges a mark echo; a `played` verdict that advanced becomes the new last confirmation. */
  judge(name: string): EchoVerdict {
    const info = parseMarkName(name);
    if (info === undefined || info.seq >= this.nextSeq) return { kind: 'unknown' };
    if (info.seq < this.clearedBelowSeq) return { kind: 'flushed', epoch: info.epoch, positionMs: info.positionMs };
    const advanced =
      info.epoch > this.lastPlayedEpoch || (info.epoch === this.lastPlayedEpoch && info.positionMs > this.lastPlayedMs);
    if (advanced) {
      this.lastPlayedEpoch = info.epoch;
      this.lastPlayedMs = info.positionMs;
    }
    return { kind: 'played', epoch: info.epoch, positionMs: info.positionMs, advanced, ...(info.sentenceId === undefined ? {} : { sentenceId: info.sentenceId }) };
  }

  private mark(sentenceId: number | undefined): string {
    const positionMs = this.sentBytes / this.bytesPerMs;
    const name = encodeMarkName({ epoch: this.current, seq: this.nextSeq, positionMs, ...(sentenceId === undefined ? {} : { sentenceId }) });
    this.nextSeq++;
    this.bytesSinceMark = 0;
    return name;
  }
}
