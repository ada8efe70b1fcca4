/**
 * Streaming text in, sentences out, so speech synthesis can start on the first sentence while the
 * model is still writing the rest. Pieces are cut at sentence ends, capped at `maxChars` (long
 * sentences are cut at a clause boundary, else at a space, else hard), and the first piece of a
 * reply may be cut early at a clause so first audio is not held back by a long first sentence.
 *
 * Chunking independence: every decision depends only on text that has arrived, and a decision
 * that needs lookahead ("Dr." + next word, "etc." + is the next word capitalised?) waits for it.
 * Lookahead never reaches past `maxChars` characters from the start of the pending piece (beyond
 * that the cap decides), which is also what bounds the buffer. So `push()` never emits a piece a
 * later chunk would have changed, and any chunking of a text gives the same pieces as the whole.
 */
import { vwError } from '../errors.js';
import {
  CLOSERS,
  TERMINATORS,
  classifyWordBefore,
  clauseKind,
  endsWithoutSpace,
  isLower,
  isSpace,
  isSurrogatePair,
  isWordChar,
  runKind,
} from './sentence-rules.js';

export interface SentenceSplitterOptions {
  /** Longest piece emitted. Default 200. */
  readonly maxChars?: number;
  /** Emit the first piece of a reply early at a clause boundary (, ; : —) once it has at least this many chars. Default 40; 0 disables. */
  readonly firstClauseMinChars?: number;
}

const DEFAULT_MAX_CHARS = 200;
const DEFAULT_FIRST_CLAUSE_MIN_CHARS = 40;

/** What a terminator run decides: a cut after it, no cut (scan on from `skipTo`), or "wait for more text". */
type Verdict = { readonly cut: number } | { readonly skipTo: number } | 'more';

/**
 * Streaming text in, sentences out (each ≤ maxChars; long ones split at clause boundaries, then at
 * spaces). Handles abbreviations, decimals, ellipses, quotes, URLs, CJK terminators. Concatenating
 * every piece equals the input modulo whitespace.
 */
export class SentenceSplitter {
  private readonly maxChars: number;
  private readonly firstClauseMinChars: number;
  /** A clause cut of a long sentence must keep at least this much, else a space cut is preferred. */
  private readonly minClausePiece: number;
  private buffer = '';
  /** Start of the pending piece in `buffer` (past whitespace). */
  private start = 0;
  /** Where the last scan stopped for lookahead; everything before it was decided "no cut". */
  private resumeAt = 0;
  private resumeSawWord = false;
  private firstPiece = true;

  constructor(options: SentenceSplitterOptions = {}) {
    const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    const firstClause = options.firstClauseMinChars ?? DEFAULT_FIRST_CLAUSE_MIN_CHARS;
    if (!Number.isSafeInteger(maxChars) || maxChars < 2) throw vwError('VW_ERR_CONFIG', `maxChars ${maxChars}`);
    if (!Number.isSafeInteger(firstClause) || firstClause < 0) {
      throw vwError('VW_ERR_CONFIG', `firstClauseMinChars ${firstClause}`);
    }
    this.maxChars = maxChars;
    this.firstClauseMinChars = firstClause;
    this.minClausePiece = Math.max(1, Math.floor(maxChars / 4));
  }

  /** Feed text; returns the sentences completed by it (trimmed, non-empty). */
  push(text: string): string[] {
    this.buffer += text;
    const pieces: string[] = [];
    this.drain(false, pieces);
    this.compact();
    return pieces;
  }

  /** End of reply: returns whatever remains (0 or more pieces) and resets for the next reply. */
  flush(): string[] {
    const pieces: string[] = [];
    this.drain(true, pieces);
    this.reset();
    return pieces;
  }

  /** Drop buffered text (interruption) and start a new reply. */
  reset(): void {
    this.buffer = '';
    this.start = 0;
    this.resumeAt = 0;
    this.resumeSawWord = false;
    this.firstPiece = true;
  }

  /** Characters buffered (bounded: after a push, never more than maxChars). */
  get bufferedChars(): number {
    return this.buffer.length - this.start;
  }

  private drain(final: boolean, pieces: string[]): void {
    this.skipSpace();
    while (this.start < this.buffer.length) {
      const end = this.findCut(final);
      if (end === undefined) return;
      const piece = this.buffer.slice(this.start, end).trimEnd();
      if (piece !== '') pieces.push(piece);
      this.start = end;
      this.firstPiece = false;
      // The scan of the next piece starts afresh: decisions made for this one do not carry over.
      this.resumeAt = end;
      this.resumeSawWord = false;
      this.skipSpace();
    }
  }

  private skipSpace(): void {
    const buffer = this.buffer;
    while (this.start < buffer.length && isSpace(buffer.charAt(this.start))) this.start++;
    if (this.resumeAt < this.start) {
      this.resumeAt = this.start;
      this.resumeSawWord = false;
    }
  }

  private compact(): void {
    if (this.start === 0) return;
    this.buffer = this.buffer.slice(this.start);
    this.resumeAt -= this.start;
    this.start = 0;
  }

  /** The end of the next piece, or undefined when that depends on text not yet pushed. */
  private findCut(final: boolean): number | undefined {
    const buffer = this.buffer;
    const length = buffer.length;
    const start = this.start;
    const limit = start + this.maxChars;
    const earlyClause = this.firstPiece && this.firstClauseMinChars > 0;
    let i = this.resumeAt;
    let sawWord = this.resumeSawWord;
    while (i < length && i < limit) {
      const ch = buffer.charAt(i);
      if (TERMINATORS.has(ch)) {
        const verdict = this.atTerminator(i, sawWord, final);
        if (verdict === 'more') return this.suspend(i, sawWord);
        if ('cut' in verdict) return verdict.cut;
        i = verdict.skipTo;
        continue;
      }
      if (isSpace(ch)) {
        // A blank line ends a piece; a single newline does not.
        let j = i;
        let newlines = 0;
        while (j < length && j <= limit && isSpace(buffer.charAt(j))) if (buffer.charAt(j++) === '\n') newlines++;
        if (sawWord && newlines >= 2) return i;
        if (sawWord && j === length && j <= limit && !final) return this.suspend(i, sawWord);
        i = j;
        continue;
      }
      if (earlyClause && sawWord && i + 1 - start >= this.firstClauseMinChars) {
        const kind = clauseKind(ch);
        if (kind === 'bare') return i + 1;
        if (kind === 'spaced') {
          if (i + 1 === length) {
            if (!final) return this.suspend(i, sawWord);
          } else if (isSpace(buffer.charAt(i + 1))) {
            return i + 1;
          }
        }
      }
      if (!sawWord && isWordChar(ch)) sawWord = true;
      i++;
    }
    if (i >= limit && length > limit) return this.capCut(start, limit);
    return final ? length : this.suspend(i, sawWord);
  }

  /** Decides the run of terminators starting at `i`. */
  private atTerminator(i: number, sawWord: boolean, final: boolean): Verdict {
    const buffer = this.buffer;
    const length = buffer.length;
    const limit = this.start + this.maxChars;
    let runEnd = i + 1;
    while (runEnd < length && TERMINATORS.has(buffer.charAt(runEnd))) runEnd++;
    // A piece ending past the limit would be too long: the cap decides instead.
    if (runEnd > limit) return { skipTo: runEnd };
    if (runEnd === length && !final) return 'more'; // more dots, or "3." becoming "3.14"
    let end = runEnd;
    while (end < length && CLOSERS.has(buffer.charAt(end))) end++;
    if (end > limit) return { skipTo: runEnd };
    if (end === length) return final ? { cut: end } : 'more';
    const run = buffer.slice(i, runEnd);
    // No space after: "3.14", "example.com", "Wait...what" — except CJK, which uses no spaces.
    if (!isSpace(buffer.charAt(end))) return endsWithoutSpace(run) && sawWord ? { cut: end } : { skipTo: runEnd };
    if (!sawWord) return { skipTo: runEnd };
    const kind = runKind(run);
    if (kind === 'strong') return { cut: end };
    if (kind === 'period') {
      const word = classifyWordBefore(buffer, this.start, i);
      if (word === 'ordinary') return { cut: end };
      if (word === 'never') return { skipTo: runEnd };
    }
    // An ellipsis or an ambiguous abbreviation: a lowercase next word continues the sentence.
    let next = end;
    let newlines = 0;
    while (next < length && next <= limit && isSpace(buffer.charAt(next))) if (buffer.charAt(next++) === '\n') newlines++;
    if (newlines >= 2) return { cut: end };
    if (next > limit) return { skipTo: runEnd };
    if (next === length) return final ? { cut: end } : 'more';
    return isLower(buffer.charAt(next)) ? { skipTo: runEnd } : { cut: end };
  }

  /** No sentence end within maxChars: cut at the last clause boundary, else the last space, else hard. */
  private capCut(start: number, limit: number): number {
    const buffer = this.buffer;
    for (let c = limit; c >= start + this.minClausePiece; c--) {
      const kind = clauseKind(buffer.charAt(c - 1));
      if (kind === 'bare' || (kind === 'spaced' && isSpace(buffer.charAt(c)))) return c;
    }
    for (let c = limit; c > start; c--) if (isSpace(buffer.charAt(c))) return c;
    // Never split a surrogate pair (an emoji would become two broken characters).
    return isSurrogatePair(buffer.charCodeAt(limit - 1), buffer.charCodeAt(limit)) ? limit - 1 : limit;
  }

  private suspend(i: number, sawWord: boolean): undefined {
    this.resumeAt = i;
    this.resumeSawWord = sawWord;
    return undefined;
  }
}

/** Splits a whole text at once (push + flush): the reference the streaming output must equal. */
export function splitSentences(text: string, options?: SentenceSplitterOptions): string[] {
  const splitter = new SentenceSplitter(options);
  return [...splitter.push(text), ...splitter.flush()];
}
