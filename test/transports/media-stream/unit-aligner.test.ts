import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UnitAligner } from '../../../src/transports/media-stream/unit-aligner.js';

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('UnitAligner', () => {
  test('whatever the chunking, it emits whole units only, in order, and holds less than one unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 20 }), (unit, chunks) => {
        const aligner = new UnitAligner(unit);
        const emitted: Uint8Array[] = [];
        for (const chunk of chunks) {
          aligner.push(chunk, (bytes) => {
            assert.equal(bytes.length % unit, 0);
            emitted.push(bytes.slice());
          });
          assert.ok(aligner.pending < unit);
        }
        const input = concat(chunks);
        const out = concat(emitted);
        assert.equal(out.length + aligner.pending, input.length);
        assert.deepEqual(out, input.subarray(0, out.length));
        const tail = aligner.flush(0xab);
        if (input.length % unit === 0) assert.equal(tail, undefined);
        else {
          assert.ok(tail);
          assert.equal(tail.bytes.length, unit);
          assert.deepEqual(tail.bytes.subarray(0, tail.real), input.subarray(out.length));
          assert.ok(tail.bytes.subarray(tail.real).every((b) => b === 0xab));
        }
        assert.equal(aligner.pending, 0);
      }),
    );
  });

  test('drop forgets the held bytes: the next unit starts fresh', () => {
    const aligner = new UnitAligner(4);
    const emitted: number[][] = [];
    aligner.push(new Uint8Array([1, 2, 3]), (b) => emitted.push([...b]));
    aligner.drop();
    aligner.push(new Uint8Array([5, 6, 7, 8, 9]), (b) => emitted.push([...b]));
    assert.deepEqual(emitted, [[5, 6, 7, 8]]);
    assert.equal(aligner.pending, 1);
  });

  test('a unit that is not a whole number ≥ 1 is a RangeError', () => {
    for (const unit of [0, -1, 2.5, Number.NaN]) assert.throws(() => new UnitAligner(unit), RangeError);
  });
});
