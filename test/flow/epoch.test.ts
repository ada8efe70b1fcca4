import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EpochClock } from '../../src/flow/epoch.js';
import { throwsWithCode } from './helpers.js';

describe('EpochClock', () => {
  test('starts at 0 by default, or at the given start', () => {
    assert.equal(new EpochClock().current, 0);
    assert.equal(new EpochClock(7).current, 7);
  });

  test('advance() starts a new epoch and returns it', () => {
    const clock = new EpochClock();
    assert.equal(clock.advance(), 1);
    assert.equal(clock.current, 1);
  });

  test('after an advance the old epoch is stale and the new one current', () => {
    const clock = new EpochClock();
    const old = clock.current;
    const next = clock.advance();
    assert.deepEqual([clock.isCurrent(old), clock.isStale(old), clock.isCurrent(next), clock.isStale(next)], [false, true, true, false]);
  });

  test('an epoch from the future is neither current nor stale', () => {
    const clock = new EpochClock();
    assert.deepEqual([clock.isCurrent(5), clock.isStale(5)], [false, false]);
  });

  test('a start that is not a non-negative integer is refused with VW_ERR_INVALID_SIZE', () => {
    throwsWithCode(() => new EpochClock(-1), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new EpochClock(Number.NaN), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new EpochClock(1.5), 'VW_ERR_INVALID_SIZE');
  });

  test('every epoch handed out by advance() is stale after the next advance and never current again', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (advances) => {
        const clock = new EpochClock();
        const seen: number[] = [clock.current];
        for (let i = 0; i < advances; i++) seen.push(clock.advance());
        assert.equal(new Set(seen).size, seen.length);
        for (const epoch of seen.slice(0, -1)) assert.ok(clock.isStale(epoch) && !clock.isCurrent(epoch), `epoch ${epoch} not stale`);
        assert.ok(clock.isCurrent(seen.at(-1)!), 'the last one is current');
      }),
    );
  });
});
