import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Framer } from '../../../src/transports/vonage/framer.js';

describe('Framer', () => {
  test('whole frames go out at once; the remainder waits; flush pads it with silence', () => {
    const framer = new Framer(4);
    const frames: number[][] = [];
    framer.push(Uint8Array.from([1, 2, 3, 4, 5, 6]), (f) => frames.push([...f]) > 0);
    assert.deepEqual(frames, [[1, 2, 3, 4]]);
    assert.equal(framer.held, 2);
    framer.push(Uint8Array.from([7]), (f) => frames.push([...f]) > 0);
    assert.equal(framer.held, 3);
    const tail = framer.flush();
    assert.deepEqual(tail && { frame: [...tail.frame], audioBytes: tail.audioBytes }, { frame: [5, 6, 7, 0], audioBytes: 3 });
    assert.equal(framer.flush(), undefined);
  });

  test('drop forgets the remainder; a failing emit stops the cut', () => {
    const framer = new Framer(2);
    framer.push(Uint8Array.from([1]), () => true);
    framer.drop();
    assert.equal(framer.held, 0);
    let calls = 0;
    framer.push(new Uint8Array(10), () => ++calls < 2);
    assert.equal(calls, 2);
  });

  test('frames are independent of how the audio was split (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 20 }), fc.constantFrom(2, 4, 320, 640), (pieces, size) => {
        const framer = new Framer(size);
        const out: number[] = [];
        for (const piece of pieces) framer.push(piece, (frame) => {
          assert.equal(frame.length, size);
          out.push(...frame);
          return true;
        });
        const tail = framer.flush();
        if (tail) out.push(...tail.frame.subarray(0, tail.audioBytes));
        assert.deepEqual(out, pieces.flatMap((p) => [...p]));
      }),
      { numRuns: 500 },
    );
  });

  test('odd or tiny frame sizes are refused', () => {
    assert.throws(() => new Framer(3), RangeError);
    assert.throws(() => new Framer(0), RangeError);
  });
});
