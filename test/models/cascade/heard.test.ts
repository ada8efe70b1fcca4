/**
 * Mapping a played position onto the sentences sent: whole sentences before it, the played
 * share of the one playing (cut at a word), nothing after it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cutAtWord, lastWords, splitHeard, type SpokenSentence } from '../../../src/models/cascade/heard.js';

const sentences: SpokenSentence[] = [
  { sentenceId: 0, text: 'Hello there.', durationMs: 1000 },
  { sentenceId: 1, text: 'This is the second sentence.', durationMs: 2000 },
  { sentenceId: 2, text: 'And the third.', durationMs: 1000 },
];

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

describe('splitHeard', () => {
  test('nothing played → nothing heard', () => {
    assert.deepEqual(splitHeard(sentences, 0), {
      heard: '',
      unheard: 'Hello there. This is the second sentence. And the third.',
      cutSentenceId: undefined,
    });
  });

  test('a cut between sentences keeps whole sentences', () => {
    const split = splitHeard(sentences, 1000);
    assert.equal(split.heard, 'Hello there.');
    assert.equal(split.cutSentenceId, undefined);
  });

  test('a cut inside a sentence keeps the played share, back to a word boundary', () => {
    // Half of "This is the second sentence." (28 chars) → 14 chars → "This is the" (cut inside "second").
    const split = splitHeard(sentences, 2000);
    assert.equal(split.heard, 'Hello there. This is the');
    assert.equal(split.unheard, 'second sentence. And the third.');
    assert.equal(split.cutSentenceId, 1);
  });

  test('past the end → everything heard', () => {
    assert.equal(splitHeard(sentences, 10_000).unheard, '');
    assert.equal(splitHeard(sentences, Infinity).unheard, '');
    assert.equal(splitHeard(sentences, Number.NaN).heard, '');
  });

  test('heard + unheard keep every word in order, and heard only grows with the position (property)', () => {
    const sentence = fc.record({
      text: fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 10 }).map((w) => w.join(' ') + '.'),
      durationMs: fc.integer({ min: 0, max: 5000 }),
    });
    fc.assert(
      fc.property(fc.array(sentence, { maxLength: 6 }), fc.nat(30_000), fc.nat(30_000), (list, a, b) => {
        const spoken = list.map((s, i) => ({ sentenceId: i, ...s }));
        const all = spoken.flatMap((s) => words(s.text));
        const early = splitHeard(spoken, Math.min(a, b));
        const late = splitHeard(spoken, Math.max(a, b));
        for (const split of [early, late]) assert.deepEqual([...words(split.heard), ...words(split.unheard)], all);
        assert.ok(late.heard.startsWith(early.heard));
      }),
    );
  });
});

describe('cutAtWord / lastWords', () => {
  test('never splits a word', () => {
    assert.deepEqual(cutAtWord('abc def', 0.5), ['abc', 'def']);
    assert.deepEqual(cutAtWord('abc def', 0.2), ['', 'abc def']);
    assert.deepEqual(cutAtWord('abc def', 1), ['abc def', '']);
    assert.equal(lastWords('one two three four', 2), 'three four');
    assert.equal(lastWords('', 3), '');
  });
});
