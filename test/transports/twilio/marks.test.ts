import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeMarkName, parseMarkName, type MarkInfo } from '../../../src/transports/twilio/marks.js';

/** Any UTF-16 text, lone surrogates and control characters included (fast, unlike unit 'binary'). */
function anyText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));
}

const count = fc.integer({ min: 0, max: 1e15 - 1 });
const infoArb: fc.Arbitrary<MarkInfo> = fc.oneof(
  fc.record({ epoch: count, seq: count, positionMs: count }),
  fc.record({ epoch: count, seq: count, positionMs: count, sentenceId: count }),
);

void describe('mark names', () => {
  void test('carry epoch, sequence, position and the sentence id in a fixed shape', () => {
    assert.equal(encodeMarkName({ epoch: 3, seq: 17, positionMs: 1400 }), 'vw:3:17:1400');
    assert.equal(encodeMarkName({ epoch: 3, seq: 18, positionMs: 1512, sentenceId: 2 }), 'vw:3:18:1512:s2');
    assert.deepEqual(parseMarkName('vw:3:18:1512:s2'), { epoch: 3, seq: 18, positionMs: 1512, sentenceId: 2 });
    assert.deepEqual(parseMarkName('vw:0:0:0'), { epoch: 0, seq: 0, positionMs: 0 });
  });

  void test('a fractional position is rounded down so a confirmation never overstates playback', () => {
    assert.equal(encodeMarkName({ epoch: 1, seq: 1, positionMs: 199.875 }), 'vw:1:1:199');
  });

  void test('invalid fields are a RangeError (a caller bug, not wire input)', () => {
    assert.throws(() => encodeMarkName({ epoch: -1, seq: 0, positionMs: 0 }), RangeError);
    assert.throws(() => encodeMarkName({ epoch: 1.5, seq: 0, positionMs: 0 }), RangeError);
    assert.throws(() => encodeMarkName({ epoch: 0, seq: Number.NaN, positionMs: 0 }), RangeError);
    assert.throws(() => encodeMarkName({ epoch: 0, seq: 0, positionMs: Infinity }), RangeError);
    assert.throws(() => encodeMarkName({ epoch: 0, seq: 0, positionMs: 0, sentenceId: -2 }), RangeError);
  });

  void test('names that are not ours parse to undefined', () => {
    for (const name of ['', 'my label', 'vw:', 'vw:1:2', 'vw:1:2:3:4', 'vw:1:2:3:x4', 'vw:01:2:3', 'vw:-1:2:3', 'VW:1:2:3', 'vw:1:2:3:s', ' vw:1:2:3', 'vw:1:2:3\n', 'vw:1:2:1e3', 'vw:1:2:9999999999999999']) {
      assert.equal(parseMarkName(name), undefined, JSON.stringify(name));
    }
  });

  void test('encode → parse is the identity for every valid field set', () => {
    fc.assert(
      fc.property(infoArb, (info) => {
        assert.deepEqual(parseMarkName(encodeMarkName(info)), { ...info });
      }),
      { numRuns: 1000 },
    );
  });

  void test('parse → encode is the identity for every name that parses (one spelling per mark)', () => {
    const nameArb = fc.oneof(
      anyText(40),
      fc.tuple(fc.stringMatching(/^[0-9]{1,4}$/), fc.stringMatching(/^[0-9]{1,4}$/), fc.stringMatching(/^[0-9]{1,4}$/), fc.option(fc.stringMatching(/^[0-9]{1,3}$/))).map(
        ([a, b, c, d]) => `vw:${a}:${b}:${c}${d === null ? '' : `:s${d}`}`,
      ),
    );
    fc.assert(
      fc.property(nameArb, (name) => {
        const info = parseMarkName(name);
        if (info !== undefined) assert.equal(encodeMarkName(info), name);
      }),
      { numRuns: 2000 },
    );
  });
});
