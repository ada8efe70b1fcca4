/**
 * The character classes and word lists the sentence splitter decides with. Kept apart from the
 * streaming machinery so each rule can be read (and extended) in one place.
 */

/** Characters that may end a sentence; a run of them ("?!", "...") counts as one terminator. */
export const TERMINATORS: ReadonlySet<string> = new Set(['.', '!', '?', '…', '。', '！', '？', '｡', '‼', '⁇', '⁈', '⁉']);

/** Terminators that end a sentence even without a following space (CJK text has none). */
const CJK_TERMINATORS = /[。！？｡]/;

/** Terminators that end a sentence whatever the next word looks like. */
const STRONG_TERMINATORS = /[!?‼⁇⁈⁉！？。｡]/;

/** Closing quotes and brackets that stay with the sentence they close: `He said "hi." Then`. */
export const CLOSERS: ReadonlySet<string> = new Set(['"', "'", '”', '’', '»', '›', ')', ']', '}', '」', '』', '）', '】', '〕', '〉', '》']);

/**
 * Clause boundaries, where a long sentence (or an early first piece) may be cut: `spaced` ones only
 * when whitespace follows (so "1,000", "12:30" and "1990–2000" stay whole), `bare` ones anywhere.
 */
export type ClauseKind = 'spaced' | 'bare' | undefined;

export function clauseKind(ch: string): ClauseKind {
  switch (ch) {
    case ',':
    case ';':
    case ':':
    case '–':
      return 'spaced';
    case '—':
    case '，':
    case '、':
    case '；':
    case '：':
      return 'bare';
    default:
      return undefined;
  }
}

/**
 * How the word before a single '.' (followed by whitespace) bears on a sentence end:
 * - `ordinary`: an end ("dog.", "$29.99.", "example.com.").
 * - `never`: a title or initial that precedes a name or phrase ("Dr.", "e.g.", "J.").
 * - `ambiguous`: may end a sentence or not ("etc.", "p.m.", "U.S."): the next word decides, a
 *   lowercase one continues the sentence.
 */
export type WordClass = 'ordinary' | 'never' | 'ambiguous';

const NEVER_END: ReadonlySet<string> = new Set([
  'mr', 'mrs', 'ms', 'mx', 'dr', 'prof', 'st', 'mt', 'ft', 'sgt', 'capt', 'lt', 'col', 'gen', 'gov',
  'sen', 'rep', 'rev', 'hon', 'fr', 'vs', 'v', 'e.g', 'i.e', 'cf', 'viz', 'approx', 'fig', 'vol', 'ch',
]);

const AMBIGUOUS_END: ReadonlySet<string> = new Set([
  'etc', 'inc', 'ltd', 'co', 'corp', 'jr', 'sr', 'bros', 'ph.d', 'a.m', 'p.m', 'no', 'al',
]);

/** Dotted abbreviations: "U.S", "a.m", "U.K" (the final dot is the candidate). */
const DOTTED = /^(?:\p{L}\.)+\p{L}$/u;
const LEADING_PUNCTUATION = /^[^\p{L}\p{N}]+/u;
const DIGITS = /^\d+$/;
const SINGLE_CAPITAL = /^\p{Lu}$/u;

/**
 * Classifies the word that ends just before `dot` (a '.' at index `dot`), looking back no further
 * than `pieceStart`. A bare number at the start of a piece or a line is a list item ("1. Open the app").
 */
export function classifyWordBefore(text: string, pieceStart: number, dot: number): WordClass {
  let start = dot;
  while (start > pieceStart && !isSpace(text.charAt(start - 1))) start--;
  const word = text.slice(start, dot).replace(LEADING_PUNCTUATION, '');
  if (word === '') return 'ordinary';
  const lineStart = start === pieceStart || text.charAt(start - 1) === '\n';
  if (lineStart && DIGITS.test(word)) return 'never';
  // Initials ("J. R. R. Tolkien"); the pronoun "I" ends sentences often enough to stay ordinary.
  if (SINGLE_CAPITAL.test(word)) return word === 'I' ? 'ordinary' : 'never';
  const lower = word.toLowerCase();
  if (NEVER_END.has(lower)) return 'never';
  if (AMBIGUOUS_END.has(lower) || DOTTED.test(word)) return 'ambiguous';
  return 'ordinary';
}

/** The shape of one run of terminators, which decides how much lookahead it needs. */
export type RunKind = 'strong' | 'ellipsis' | 'period';

export function runKind(run: string): RunKind {
  if (STRONG_TERMINATORS.test(run)) return 'strong';
  return run === '.' ? 'period' : 'ellipsis';
}

export function endsWithoutSpace(run: string): boolean {
  return CJK_TERMINATORS.test(run);
}

const SPACE = /\s/;
const WORD = /[\p{L}\p{N}]/u;
const LOWER = /\p{Ll}/u;

export function isSpace(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && SPACE.test(ch);
}

/** A letter or digit in any script (a piece must contain one to be worth speaking). */
export function isWordChar(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code < 128) return (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 122);
  return WORD.test(ch);
}

export function isLower(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code < 128) return code >= 97 && code <= 122;
  return LOWER.test(ch);
}

export function isSurrogatePair(high: number, low: number): boolean {
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}
