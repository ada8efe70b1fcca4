import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { slotOf } from '../../../bench/load/lean-caller.js';

void describe('CallerFleet slots (each caller ticked just after its frames fall due)', () => {
  void test('slotOf names the slot of the first 2 ms boundary at or after every frame of the caller (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), fc.integer({ min: 0, max: 100_000 }), (clockStartUs, frame) => {
        const clockStart = clockStartUs / 1000;
        const due = clockStart + 20 * frame;
        const boundary = Math.ceil(due / 2);
        assert.equal(boundary % 5, slotOf(clockStart));
      }),
      { numRuns: 2_000 },
    );
  });

  void test('slotOf at the edges of a cycle', () => {
    assert.equal(slotOf(0), 0);
    assert.equal(slotOf(0.001), 1);
    assert.equal(slotOf(2), 1);
    assert.equal(slotOf(8.5), 0);
    assert.equal(slotOf(10), 0);
  });
});
