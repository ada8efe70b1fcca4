/**
 * What one response has said so far, sentence by sentence: its text and the ms of audio sent for
 * it. This is the timeline a barge-in's `audioEndMs` is mapped onto (heard.ts), and what the
 * played-ACK deadlines are computed from. Bounded by the response's sentence cap.
 */
import { splitHeard, type HeardSplit, type SpokenSentence } from './heard.js';

interface Entry {
  readonly sentenceId: number;
  readonly text: string;
  synthesizedMs: number;
  sentMs: number;
  ended: boolean;
}

export class SpokenRecord {
  private readonly entries: Entry[] = [];

  constructor(readonly maxSentences: number) {}

  get count(): number {
    return this.entries.length;
  }

  /**
   * Sentence `sentenceId` was planned (ids arrive in order). False when the cap is reached; one
   * `reserved` sentence beyond the cap is kept for an apology.
   */
  plan(sentenceId: number, text: string, options: { reserved?: boolean } = {}): boolean {
    if (this.entries.length >= this.maxSentences + (options.reserved ? 1 : 0)) return false;
    this.entries.push({ sentenceId, text, synthesizedMs: 0, sentMs: 0, ended: false });
    return true;
  }

  /**
   * Forgets planned sentences that never reached the caller (after a stage failure dropped them),
   * so the next sentence — the apology — follows the last one actually sent.
   */
  discardUnsent(): void {
    while (this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1];
      if (!last || last.sentMs > 0 || last.ended) break;
      this.entries.pop();
    }
  }

  /** The id the next sentence takes (ids are contiguous from 0). */
  get nextSentenceId(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.sentenceId + 1 : 0;
  }

  addSynthesized(sentenceId: number, ms: number): void {
    const entry = this.find(sentenceId);
    if (entry) entry.synthesizedMs += ms;
  }

  /** ms of audio synthesised for `sentenceId` (its length once complete; 0 when unknown). */
  synthesizedMsOf(sentenceId: number): number {
    return this.find(sentenceId)?.synthesizedMs ?? 0;
  }

  textOf(sentenceId: number): string {
    return this.find(sentenceId)?.text ?? '';
  }

  addSent(sentenceId: number, ms: number): void {
    const entry = this.find(sentenceId);
    if (entry) entry.sentMs += ms;
  }

  end(sentenceId: number): void {
    const entry = this.find(sentenceId);
    if (entry) entry.ended = true;
  }

  /** ms sent for `sentenceId` (0 when unknown). */
  sentMsOf(sentenceId: number): number {
    return this.find(sentenceId)?.sentMs ?? 0;
  }

  /** ms sent for sentences after `playedThrough` (audio that may still be ahead of the caller). */
  unplayedMs(playedThrough: number): number {
    let total = 0;
    for (const entry of this.entries) if (entry.sentenceId > playedThrough) total += entry.sentMs;
    return total;
  }

  /** Whether any audio was sent. */
  get anySent(): boolean {
    return this.entries.some((e) => e.sentMs > 0);
  }

  /** Everything said (sentences with audio sent), for the history. */
  text(): string {
    return this.sentences()
      .map((s) => s.text)
      .join(' ');
  }

  sentences(): SpokenSentence[] {
    return this.entries
      .filter((e) => e.sentMs > 0)
      .map((e) => ({ sentenceId: e.sentenceId, text: e.text, durationMs: e.sentMs }));
  }

  /** Split at `audioEndMs` of this response's audio played; planned sentences never sent are unheard. */
  heardAt(audioEndMs: number): HeardSplit {
    const split = splitHeard(this.sentences(), audioEndMs);
    const unsent = this.entries.filter((e) => e.sentMs === 0).map((e) => e.text);
    if (unsent.length === 0) return split;
    return { ...split, unheard: [split.unheard, ...unsent].filter((t) => t.length > 0).join(' ') };
  }

  /** Split after the sentences confirmed played (when no played position is known). */
  heardThrough(playedThrough: number): HeardSplit {
    let ms = 0;
    for (const s of this.sentences()) if (s.sentenceId <= playedThrough) ms += s.durationMs;
    return this.heardAt(ms);
  }

  private find(sentenceId: number): Entry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry?.sentenceId === sentenceId) return entry;
    }
    return undefined;
  }
}
