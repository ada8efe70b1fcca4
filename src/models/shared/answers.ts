/**
 * Answers of a socket-bridged model, as the session sees them: each answer gets its own
 * responseId and itemId (the providers have none, or only event numbers), model audio is converted
 * to the caller's format and delivered under the current answer, and an interrupted answer's late
 * audio is dropped here before it reaches the session.
 *
 * It also remembers, per item, the transcript and the audio generated, so a barge-in can be told
 * to the model as "the caller heard this much of your answer" (`heardOf`). Bounded: the last
 * `memory` answers only.
 */
import { bytesPerMs, type AudioFormat } from '../../audio/format.js';
import type { ModelEvents, TokenUsage } from '../model.js';

/** Model audio (wire format) → caller format; `convert` may return a view it reuses. */
export interface OutputConversion {
  readonly passthrough: boolean;
  convert(wire: Uint8Array): Uint8Array;
  /** Forget resampler history (a new answer starts). */
  reset(): void;
}

export interface AnswerRecord {
  readonly responseId: string;
  readonly itemId: string;
  /** Transcript of the answer as generated (joined fragments). */
  text: string;
  /** Audio generated (and delivered), ms. */
  generatedMs: number;
  /**
   * True when the provider sends the answer's text ahead of its audio (Deepgram, ElevenLabs):
   * the text may hold words that were never synthesized if the answer was cut short.
   */
  textAhead: boolean;
  /** True once the provider said all of the answer's audio was sent. */
  complete: boolean;
}

/**
 * Typical speaking rate of TTS voices (≈ 150 words a minute), characters per ms: the length of
 * text-ahead answers cut short is estimated with it.
 */
export const CHARS_PER_MS = 0.014;

/** Transcript kept per answer (≈ 20 minutes of speech); a model sending more is cut here. */
export const MAX_TEXT_CHARS = 16_384;

/** What the caller heard of an interrupted answer. */
export interface HeardReport {
  readonly responseId: string;
  readonly heardMs: number;
  readonly generatedMs: number;
  /** The transcript cut at the heard fraction, on a word boundary. */
  readonly heardText: string;
  readonly generatedText: string;
}

export interface AnswerStats {
  readonly answers: number;
  readonly outputMs: number;
  /** Audio frames dropped because their answer was interrupted (late audio). */
  readonly lateDropped: number;
}

export class Answers {
  private current: AnswerRecord | undefined;
  private readonly recent = new Map<string, AnswerRecord>();
  private seq = 0;
  private readonly heard: HeardReport[] = [];
  private outputMs = 0;
  private lateDropped = 0;
  /** After an interruption, audio is dropped until the protocol marks a new answer. */
  private suppressing = false;

  constructor(
    private readonly prefix: string,
    private readonly callerFormat: AudioFormat,
    private readonly outbound: OutputConversion,
    private readonly events: () => ModelEvents | undefined,
    private readonly memory = 16,
  ) {}

  get active(): AnswerRecord | undefined {
    return this.current;
  }

  get stats(): AnswerStats {
    return { answers: this.seq, outputMs: this.outputMs, lateDropped: this.lateDropped };
  }

  /** Starts a new answer (ending the current one as completed) and reports responseStarted. */
  begin(): AnswerRecord {
    if (this.current !== undefined) this.finish('completed');
    this.seq++;
    const answer: AnswerRecord = {
      responseId: `${this.prefix}_resp_${this.seq}`, itemId: `${this.prefix}_item_${this.seq}`, text: '', generatedMs: 0, textAhead: false, complete: false,
    };
    this.current = answer;
    this.suppressing = false;
    this.recent.set(answer.itemId, answer);
    if (this.recent.size > this.memory) this.recent.delete(this.recent.keys().next().value!);
    this.outbound.reset();
    this.events()?.responseStarted(answer.responseId);
    return answer;
  }

  /**
   * Model audio in the wire format. Starts an answer when none is open, unless an interruption is
   * being honoured (then the audio is late audio of the old answer: dropped). Returns false when dropped.
   */
  audio(wireBytes: Uint8Array): boolean {
    if (this.current === undefined && this.suppressing) {
      this.lateDropped++;
      return false;
    }
    const answer = this.current ?? this.begin();
    const converted = this.outbound.passthrough ? wireBytes.slice() : this.outbound.convert(wireBytes).slice();
    if (converted.length === 0) return true;
    const durationMs = converted.length / bytesPerMs(this.callerFormat);
    answer.generatedMs += durationMs;
    this.outputMs += durationMs;
    void this.events()?.audio({ responseId: answer.responseId, itemId: answer.itemId, sentenceId: 0, bytes: converted, durationMs });
    return true;
  }

  /**
   * Transcript text of the current answer (a fragment; joined with what came before). `ahead`:
   * the provider sends text before the audio that speaks it.
   */
  text(fragment: string, ahead = false): void {
    const answer = this.current;
    if (answer === undefined || fragment === '') return;
    if (answer.text.length < MAX_TEXT_CHARS) answer.text = (answer.text + fragment).slice(0, MAX_TEXT_CHARS);
    answer.textAhead ||= ahead;
    this.events()?.transcript(answer.responseId, fragment);
  }

  /** Replaces the transcript of the current answer (providers that send it whole, ahead of the audio). */
  setText(text: string): void {
    const answer = this.current;
    if (answer === undefined) return;
    answer.text = text.slice(0, MAX_TEXT_CHARS);
    answer.textAhead = true;
    this.events()?.transcript(answer.responseId, text);
  }

  /** Ends the current answer with `status` (completed, cancelled, failed) and the model's token counts, if reported. */
  finish(status: string, usage?: TokenUsage): AnswerRecord | undefined {
    const answer = this.current;
    if (answer === undefined) return undefined;
    this.current = undefined;
    answer.complete = status === 'completed';
    this.events()?.responseDone(answer.responseId, status, usage);
    return answer;
  }

  /** The provider says the caller interrupted: end the answer and drop its late audio. */
  interrupt(suppressLateAudio: boolean): AnswerRecord | undefined {
    const answer = this.finish('cancelled');
    this.suppressing = suppressLateAudio;
    this.outbound.reset();
    return answer;
  }

  /** Counts a frame the protocol itself identified as late (e.g. an older ElevenLabs event_id). */
  countLate(): void {
    this.lateDropped++;
  }

  /** The last barge-ins' heard reports (bounded by `memory`), oldest first. */
  get heardReports(): readonly HeardReport[] {
    return this.heard;
  }

  /** `heardOf`, remembered in `heardReports` (a barge-in happened). */
  reportHeard(itemId: string, audioEndMs: number): HeardReport | undefined {
    const report = this.heardOf(itemId, audioEndMs);
    if (report === undefined) return undefined;
    this.heard.push(report);
    if (this.heard.length > this.memory) this.heard.shift();
    return report;
  }

  /** What the caller heard of `itemId` when it had heard `audioEndMs` of it. */
  heardOf(itemId: string, audioEndMs: number): HeardReport | undefined {
    const answer = this.recent.get(itemId);
    if (answer === undefined) return undefined;
    const heardMs = Math.max(0, Math.min(Number.isFinite(audioEndMs) ? audioEndMs : 0, answer.generatedMs));
    // Text sent ahead of audio that was cut short covers more than the audio generated: estimate
    // the whole answer's length from the text instead (never less than what was generated).
    const spokenMs = answer.textAhead && !answer.complete ? Math.max(answer.generatedMs, answer.text.trim().length / CHARS_PER_MS) : answer.generatedMs;
    const fraction = spokenMs > 0 ? heardMs / spokenMs : 0;
    return {
      responseId: answer.responseId, heardMs, generatedMs: answer.generatedMs,
      heardText: cutAtFraction(answer.text, fraction), generatedText: answer.text,
    };
  }
}

/**
 * The first `fraction` of `text` by characters, cut back to a word boundary (a word is heard
 * whole or not at all). Speech runs at roughly constant characters per second, so the fraction of
 * audio heard is the best estimate of the fraction of text heard the providers allow.
 */
export function cutAtFraction(text: string, fraction: number): string {
  const trimmed = text.trim();
  if (!(fraction > 0) || trimmed === '') return '';
  if (fraction >= 1) return trimmed;
  const end = Math.floor(trimmed.length * fraction);
  if (end >= trimmed.length) return trimmed;
  // Keep the word under the cut only if it ends exactly there.
  if (/\s/.test(trimmed.charAt(end))) return trimmed.slice(0, end).trim();
  const lastSpace = trimmed.lastIndexOf(' ', end);
  return lastSpace <= 0 ? '' : trimmed.slice(0, lastSpace).trim();
}

/** The note a backend sends the model after a barge-in (wording shared by every backend). */
export function heardNote(report: HeardReport): string {
  if (report.heardText === '') return 'The caller interrupted your last answer before hearing any of it.';
  return `The caller interrupted your last answer and heard only this part of it: "${report.heardText}". Treat the rest as not said.`;
}
