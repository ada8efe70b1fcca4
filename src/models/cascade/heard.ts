/**
 * What the caller actually heard of a response, from the durations of the sentences we sent and
 * the played position the session reports on barge-in. Whole sentences that ended before the
 * position count in full; the sentence playing at that moment counts in proportion to the ms
 * played (speech rate is roughly uniform within one sentence), cut back to a word boundary so the
 * history never ends in half a word.
 */

/** One sentence of a response as sent to the caller. */
export interface SpokenSentence {
  readonly sentenceId: number;
  readonly text: string;
  /** ms of audio sent for it (its length when complete). */
  readonly durationMs: number;
}

export interface HeardSplit {
  /** Text the caller heard (whole sentences + the heard words of the interrupted one). */
  readonly heard: string;
  /** Text sent or planned that the caller did not hear. */
  readonly unheard: string;
  /** Sentence playing at the cut, or undefined when the cut fell between sentences / after all. */
  readonly cutSentenceId: number | undefined;
}

/**
 * Splits `sentences` (in play order) at `audioEndMs` of played audio. Pure; `heard + ' ' + unheard`
 * holds every word of the sentences in order, and `heard` grows with `audioEndMs`.
 */
export function splitHeard(sentences: readonly SpokenSentence[], audioEndMs: number): HeardSplit {
  const heard: string[] = [];
  const unheard: string[] = [];
  let cutSentenceId: number | undefined;
  let startMs = 0;
  const position = Number.isFinite(audioEndMs) ? Math.max(0, audioEndMs) : audioEndMs > 0 ? Infinity : 0;
  for (const sentence of sentences) {
    const endMs = startMs + Math.max(0, sentence.durationMs);
    if (unheard.length > 0 || position <= startMs) {
      unheard.push(sentence.text);
    } else if (position >= endMs) {
      heard.push(sentence.text);
    } else {
      const [head, tail] = cutAtWord(sentence.text, (position - startMs) / (endMs - startMs));
      if (head) heard.push(head);
      if (tail) unheard.push(tail);
      cutSentenceId = sentence.sentenceId;
    }
    startMs = endMs;
  }
  return { heard: joinWords(heard), unheard: joinWords(unheard), cutSentenceId };
}

/** Splits `text` after `fraction` of its characters, moved back to the last word boundary. */
export function cutAtWord(text: string, fraction: number): [string, string] {
  const trimmed = text.trim();
  const at = Math.floor(Math.min(1, Math.max(0, fraction)) * trimmed.length);
  if (at >= trimmed.length) return [trimmed, ''];
  // Back to the start of the word the cut falls in (or keep the cut when it is on a space).
  let cut = at;
  while (cut > 0 && !/\s/.test(trimmed[cut] ?? '')) cut -= 1;
  return [trimmed.slice(0, cut).trim(), trimmed.slice(cut).trim()];
}

function joinWords(parts: readonly string[]): string {
  return parts
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .join(' ');
}

/** The last `count` words of `text` (for "you interrupted me just after …"). */
export function lastWords(text: string, count: number): string {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  return words.slice(Math.max(0, words.length - count)).join(' ');
}
