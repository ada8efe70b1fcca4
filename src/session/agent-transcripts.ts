/**
 * What the agent said, per response, settled against what the caller actually heard. A response's
 * audio occupies [start, start + audioMs) on its epoch's timeline; its `transcript.agent` event goes
 * out once that span has played (whole text), or at a barge-in (the heard part, the unheard rest
 * marked), or when the call ends. Transcript text arrives with the audio it belongs to, so the
 * heard part is the same fraction of the text as of the audio, cut back to a word boundary.
 */
import { cutAtWord } from '../models/cascade/heard.js';

export interface AgentUtterance {
  readonly responseId: string;
  readonly text: string;
  readonly interrupted: boolean;
  readonly unheard: string | null;
  readonly heardMs: number | null;
}

interface ResponseSpan {
  readonly responseId: string;
  startMs: number;
  audioMs: number;
  text: string;
  done: boolean;
}

/** Text kept per response (a bound: a runaway model cannot grow it). */
const MAX_TEXT_CHARS = 16 * 1024;
/** Responses kept at once; the oldest is settled as heard when more start. */
const MAX_SPANS = 8;

export class AgentTranscripts {
  private readonly spans: ResponseSpan[] = [];
  /** Audio enqueued in the current epoch (ms): where the next response starts. */
  private epochMs = 0;

  constructor(private readonly emit: (utterance: AgentUtterance) => void) {}

  started(responseId: string): void {
    if (this.spans.length >= MAX_SPANS) this.settle(this.spans.shift()!, Infinity);
    this.spans.push({ responseId, startMs: this.epochMs, audioMs: 0, text: '', done: false });
  }

  audio(responseId: string, ms: number): void {
    const span = this.find(responseId);
    if (span === undefined) return;
    span.audioMs += ms;
    this.epochMs += ms;
  }

  text(responseId: string, delta: string): void {
    const span = this.find(responseId);
    if (span !== undefined && span.text.length < MAX_TEXT_CHARS) span.text = (span.text + delta).slice(0, MAX_TEXT_CHARS);
  }

  /** The model finished the response; it is settled once its audio has played. */
  done(responseId: string, playedMs: number): void {
    const span = this.find(responseId);
    if (span === undefined) return;
    span.done = true;
    this.played(playedMs);
  }

  /** The caller's confirmed played position in the epoch: responses wholly played are settled. */
  played(playedMs: number): void {
    while (this.spans.length > 0) {
      const first = this.spans[0]!;
      if (!first.done || playedMs < first.startMs + first.audioMs) return;
      this.spans.shift();
      this.settle(first, Infinity);
    }
  }

  /** A barge-in at `heardMs` of the epoch: every open response is settled at it; a new epoch starts. */
  bargeIn(heardMs: number): void {
    // A response still being generated was cut even if all its audio so far was heard.
    for (const span of this.spans.splice(0)) this.settle(span, heardMs - span.startMs, !span.done);
    this.epochMs = 0;
  }

  /**
   * The caller's player starts again at `fromMs` of the epoch (a local barge-in's false start: the
   * new epoch's 0 is the old epoch's `fromMs`): every position moves back by it.
   */
  rebase(fromMs: number): void {
    for (const span of this.spans) span.startMs -= fromMs;
    this.epochMs -= fromMs;
  }

  /** The call ended with the caller at `playedMs`. */
  end(playedMs: number): void {
    for (const span of this.spans.splice(0)) this.settle(span, playedMs - span.startMs);
  }

  private find(responseId: string): ResponseSpan | undefined {
    return this.spans.find((span) => span.responseId === responseId);
  }

  private settle(span: ResponseSpan, heardOfSpanMs: number, cut = false): void {
    const text = span.text.trim();
    if (heardOfSpanMs >= span.audioMs && !cut) {
      if (text !== '') this.emit({ responseId: span.responseId, text, interrupted: false, unheard: null, heardMs: null });
      return;
    }
    const heardMs = Math.min(span.audioMs, Math.max(0, heardOfSpanMs));
    if (text === '' && span.audioMs === 0) return;
    const [heard, unheard] = cutAtWord(text, span.audioMs > 0 ? heardMs / span.audioMs : 0);
    this.emit({ responseId: span.responseId, text: heard, interrupted: true, unheard, heardMs: Math.round(heardMs) });
  }
}
