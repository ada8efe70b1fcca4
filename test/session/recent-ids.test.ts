import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentIds } from '../../src/session/recent-ids.js';

describe('RecentIds', () => {
  it('is empty before the first add (its storage is made then)', () => {
    const ids = new RecentIds(4);
    assert.equal(ids.size, 0);
    assert.equal(ids.has('a'), false);
  });

  it('forgets the oldest id past its capacity and ignores repeats', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('a');
    ids.add('b');
    assert.equal(ids.size, 2);
    ids.add('c');
    assert.deepEqual(['a', 'b', 'c'].map((id) => ids.has(id)), [false, true, true]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) assert.throws(() => new RecentIds(capacity), RangeError);
  });

  it('holds exactly the last `capacity` distinct ids of any sequence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g')), (capacity, sequence) => {
        const ids = new RecentIds(capacity);
        const model: string[] = [];
        for (const id of sequence) {
          ids.add(id);
          if (model.includes(id)) continue;
          model.push(id);
          if (model.length > capacity) model.shift();
        }
        assert.equal(ids.size, model.length);
        for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) assert.equal(ids.has(id), model.includes(id));
      }),
    );
  });
});
