import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SentenceSplitter, splitSentences, type SentenceSplitterOptions } from '../../src/flow/sentence-splitter.js';
import { throwsWithCode } from './helpers.js';

/** Whole-sentence behaviour, with the early first clause off so each case shows one rule. */
const NO_EARLY: SentenceSplitterOptions = { firstClauseMinChars: 0 };

function split(text: string, options: SentenceSplitterOptions = NO_EARLY): string[] {
  return splitSentences(text, options);
}

/** Feeds `text` one character at a time, the harshest chunking. */
function splitByChar(text: string, options: SentenceSplitterOptions = NO_EARLY): string[] {
  const splitter = new SentenceSplitter(options);
  const pieces: string[] = [];
  for (const ch of text) pieces.push(...splitter.push(ch));
  return [...pieces, ...splitter.flush()];
}

/** Each case: the text, and the pieces expected whole and character by character. */
function cases(title: string, table: ReadonlyArray<readonly [string, readonly string[]]>): void {
  describe(title, () => {
    for (const [text, expected] of table) {
      test(`${JSON.stringify(text)} splits into ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(split(text), expected);
        assert.deepEqual(splitByChar(text), expected);
      });
    }
  });
}

cases('SentenceSplitter sentence ends', [
  ['Hello there. How are you? I am fine!', ['Hello there.', 'How are you?', 'I am fine!']],
  ['Really?! Yes. No?? Maybe!!!', ['Really?!', 'Yes.', 'No??', 'Maybe!!!']],
  ['No terminator at all', ['No terminator at all']],
  ['  Leading and trailing space.  ', ['Leading and trailing space.']],
]);

cases('SentenceSplitter abbreviations', [
  ['Dr. Smith is in. Mr. and Mrs. Jones are out.', ['Dr. Smith is in.', 'Mr. and Mrs. Jones are out.']],
  ['Ms. Lee lives on Main St. near the park.', ['Ms. Lee lives on Main St. near the park.']],
  ['Use fruit, e.g. apples, i.e. the red ones. Done.', ['Use fruit, e.g. apples, i.e. the red ones.', 'Done.']],
  ['Cats vs. dogs. Fight.', ['Cats vs. dogs.', 'Fight.']],
  ['Bring pens, paper, etc. and a bag. Thanks.', ['Bring pens, paper, etc. and a bag.', 'Thanks.']],
  ['Bring pens, paper, etc. Then leave.', ['Bring pens, paper, etc.', 'Then leave.']],
  ['The U.S. economy grew. It was the U.S. The end.', ['The U.S. economy grew.', 'It was the U.S.', 'The end.']],
  ['Meet at 5 p.m. and eat at 6 a.m. Then sleep.', ['Meet at 5 p.m. and eat at 6 a.m.', 'Then sleep.']],
  ['J. R. R. Tolkien wrote it. George W. Bush read it.', ['J. R. R. Tolkien wrote it.', 'George W. Bush read it.']],
  ['The winner was I. Then we left.', ['The winner was I.', 'Then we left.']],
]);

cases('SentenceSplitter numbers', [
  ['It costs $29.99 today. Pi is 3.14. Next.', ['It costs $29.99 today.', 'Pi is 3.14.', 'Next.']],
  ['I counted 3. Then 4.', ['I counted 3.', 'Then 4.']],
  ['Steps:\n1. Open the app.\n2. Tap send.', ['Steps:\n1. Open the app.', '2. Tap send.']],
  ['We sold 1,000 units. Good.', ['We sold 1,000 units.', 'Good.']],
]);

cases('SentenceSplitter ellipses', [
  ['Wait... what? Oh.', ['Wait... what?', 'Oh.']],
  ['Wait... What is that?', ['Wait...', 'What is that?']],
  ['Hmm… let me think… Okay.', ['Hmm… let me think…', 'Okay.']],
  ['Well...maybe not.', ['Well...maybe not.']],
]);

cases('SentenceSplitter quotes and brackets', [
  ['He said "hi." Then he left.', ['He said "hi."', 'Then he left.']],
  ['She asked “why?” Nobody knew.', ['She asked “why?”', 'Nobody knew.']],
  ['It ended (finally.) We cheered.', ['It ended (finally.)', 'We cheered.']],
  ["'Go.' He went.", ["'Go.'", 'He went.']],
]);

cases('SentenceSplitter URLs and emails', [
  ['Visit example.com/a.b today. Or not.', ['Visit example.com/a.b today.', 'Or not.']],
  ['Go to www.x.org. It is free.', ['Go to www.x.org.', 'It is free.']],
  ['Mail a.b@c.com now. Thanks.', ['Mail a.b@c.com now.', 'Thanks.']],
  ['See https://x.org/p?q=1&r=2 first. Then go.', ['See https://x.org/p?q=1&r=2 first.', 'Then go.']],
]);

cases('SentenceSplitter CJK', [
  ['你好。今天好吗？我很好！', ['你好。', '今天好吗？', '我很好！']],
  ['「走吧。」他说。', ['「走吧。」', '他说。']],
]);

cases('SentenceSplitter newlines', [
  ['First paragraph\n\nSecond paragraph', ['First paragraph', 'Second paragraph']],
  ['One line\ncontinues here.', ['One line\ncontinues here.']],
  ['A heading\n \n\tText.', ['A heading', 'Text.']],
]);

describe('SentenceSplitter long sentences', () => {
  test('a sentence over maxChars is cut at the last clause boundary within the limit', () => {
    const text = `${'a'.repeat(30)} b, ${'c'.repeat(30)} d; ${'e'.repeat(30)} f.`;
    assert.deepEqual(split(text, { maxChars: 80, firstClauseMinChars: 0 }), [`${'a'.repeat(30)} b, ${'c'.repeat(30)} d;`, `${'e'.repeat(30)} f.`]);
  });

  test('a sentence with no clause boundary is cut at the last space within the limit', () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const pieces = split(words);
    assert.ok(pieces.every((p) => p.length <= 200), 'every piece fits');
    assert.equal(pieces.join(' '), words);
    assert.ok(pieces.length > 1, 'it was cut');
  });

  test('a run of characters without any space is cut hard at maxChars', () => {
    assert.deepEqual(split('x'.repeat(450)), ['x'.repeat(200), 'x'.repeat(200), 'x'.repeat(50)]);
  });

  test('a hard cut never splits a surrogate pair', () => {
    const pieces = split(`${'x'.repeat(9)}😀😀`, { maxChars: 10, firstClauseMinChars: 0 });
    assert.deepEqual(pieces, ['x'.repeat(9), '😀😀']);
  });

  test('an early clause cut that would leave a tiny piece is passed over for a space', () => {
    const text = `Yes, ${'word '.repeat(50)}end.`;
    const [first] = split(text);
    assert.ok(first !== undefined && first.length > 100, `first piece ${JSON.stringify(first)}`);
  });
});

describe('SentenceSplitter first clause', () => {
  const text = 'Well, I have been thinking about your question for a while, and the answer is yes. Good.';

  test('the first piece of a reply is cut early at a clause once it has firstClauseMinChars', () => {
    assert.deepEqual(splitSentences(text), ['Well, I have been thinking about your question for a while,', 'and the answer is yes.', 'Good.']);
  });

  test('only the first piece is cut early; later sentences are whole', () => {
    const splitter = new SentenceSplitter();
    const pieces = [...splitter.push(`${text} ${text}`), ...splitter.flush()];
    assert.deepEqual(pieces.slice(3), [text.slice(0, -6), 'Good.']);
  });

  test('the next reply after flush() is cut early again', () => {
    const splitter = new SentenceSplitter();
    splitter.push(text);
    splitter.flush();
    assert.deepEqual([...splitter.push(text), ...splitter.flush()], splitSentences(text));
  });

  test('a first clause shorter than firstClauseMinChars is not cut', () => {
    assert.deepEqual(splitSentences('Sure, I can do that. Bye.'), ['Sure, I can do that.', 'Bye.']);
  });

  test('firstClauseMinChars 0 disables early cuts', () => {
    assert.deepEqual(split(text), [text.slice(0, -6), 'Good.']);
  });
});

describe('SentenceSplitter streaming', () => {
  test('push() does not end a sentence at "Dr." and holds "today." until the next character arrives', () => {
    const splitter = new SentenceSplitter(NO_EARLY);
    assert.deepEqual(splitter.push('I saw Dr.'), []);
    assert.deepEqual(splitter.push(' '), []);
    assert.deepEqual(splitter.push('Smith today.'), []);
    assert.deepEqual(splitter.push(' He'), ['I saw Dr. Smith today.']);
    assert.deepEqual(splitter.flush(), ['He']);
  });

  test('push() does not emit "3." before it knows whether "3.14" follows', () => {
    const splitter = new SentenceSplitter(NO_EARLY);
    assert.deepEqual(splitter.push('Pi is 3.'), []);
    assert.deepEqual(splitter.push('14. '), ['Pi is 3.14.']);
  });

  test('a sentence is emitted as soon as the space after it arrives', () => {
    const splitter = new SentenceSplitter(NO_EARLY);
    assert.deepEqual(splitter.push('Hello.'), []);
    assert.deepEqual(splitter.push(' '), ['Hello.']);
  });

  test('reset() drops buffered text', () => {
    const splitter = new SentenceSplitter(NO_EARLY);
    splitter.push('An interrupted sent');
    assert.equal(splitter.bufferedChars, 19);
    splitter.reset();
    assert.equal(splitter.bufferedChars, 0);
    assert.deepEqual([...splitter.push('New. '), ...splitter.flush()], ['New.']);
  });

  test('flush() on an empty splitter returns nothing', () => {
    assert.deepEqual(new SentenceSplitter().flush(), []);
  });

  test('invalid options are refused with VW_ERR_CONFIG', () => {
    throwsWithCode(() => new SentenceSplitter({ maxChars: 1 }), 'VW_ERR_CONFIG');
    throwsWithCode(() => new SentenceSplitter({ maxChars: Number.NaN }), 'VW_ERR_CONFIG');
    throwsWithCode(() => new SentenceSplitter({ firstClauseMinChars: -1 }), 'VW_ERR_CONFIG');
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────────

const FRAGMENTS = [
  'hello', 'World', 'the', 'a', 'I', 'Dr.', 'Mr.', 'e.g.', 'i.e.', 'U.S.', 'etc.', 'p.m.', 'J.', 'vs.', '3.14',
  '$29.99', '1,000', '1.', 'example.com/a.b', 'www.x.org', 'a@b.co', '...', '…', '?!', '?', '!', '.', ',', ';',
  ':', '—', '–', '"', '”', "'", '(', ')', '「', '」', '。', '！', '？', '你好', '😀', ' ', ' ', ' ', '  ', '\n',
  '\n\n', '\t', 'supercalifragilisticexpialidocious', 'Wait', 'what',
];

const text = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 150 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 400 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', ',', '?', '\n', '…', '"', '😀'), maxLength: 600 }) },
);

const options: fc.Arbitrary<SentenceSplitterOptions> = fc.record({
  maxChars: fc.oneof(fc.constant(200), fc.integer({ min: 2, max: 80 })),
  firstClauseMinChars: fc.oneof(fc.constant(40), fc.constant(0), fc.integer({ min: 1, max: 100 })),
});

/** Splits `input` at the given cut points (any order, duplicates and out-of-range allowed). */
function chunk(input: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(input.slice(from, p));
    from = p;
  }
  chunks.push(input.slice(from));
  return chunks;
}

const withoutSpace = (s: string): string => s.replace(/\s+/g, '');

describe('SentenceSplitter properties', () => {
  test('concatenated pieces equal the input modulo whitespace, and no piece is empty, untrimmed or over maxChars', () => {
    fc.assert(
      fc.property(text, options, (input, opts) => {
        const pieces = splitSentences(input, opts);
        assert.equal(withoutSpace(pieces.join('')), withoutSpace(input));
        for (const piece of pieces) {
          assert.ok(piece.length > 0 && piece.length <= (opts.maxChars ?? 200), `bad length: ${JSON.stringify(piece)}`);
          assert.equal(piece, piece.trim());
        }
      }),
      { numRuns: 500 },
    );
  });

  test('any chunking of the input gives the same pieces as the whole text', () => {
    fc.assert(
      fc.property(text, options, fc.array(fc.nat(), { maxLength: 40 }), (input, opts, cuts) => {
        const splitter = new SentenceSplitter(opts);
        const pieces: string[] = [];
        for (const part of chunk(input, cuts)) {
          pieces.push(...splitter.push(part));
          assert.ok(splitter.bufferedChars <= (opts.maxChars ?? 200), `buffered ${splitter.bufferedChars}`);
        }
        pieces.push(...splitter.flush());
        assert.deepEqual(pieces, splitSentences(input, opts));
      }),
      { numRuns: 500 },
    );
  });

  test('feeding one character at a time gives the same pieces as the whole text', () => {
    fc.assert(
      fc.property(text, options, (input, opts) => {
        assert.deepEqual(splitByChar(input, opts), splitSentences(input, opts));
      }),
      { numRuns: 200 },
    );
  });

  test('a splitter reused after flush() behaves like a new one', () => {
    fc.assert(
      fc.property(text, text, options, (first, second, opts) => {
        const splitter = new SentenceSplitter(opts);
        splitter.push(first);
        splitter.flush();
        assert.deepEqual([...splitter.push(second), ...splitter.flush()], splitSentences(second, opts));
      }),
      { numRuns: 200 },
    );
  });
});
