import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RateLimiter } from '../../src/server/rate-limiter.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateLimiter', () => {
  test('an address gets its burst, then one request per refill interval', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 10, burst: 3, maxAddresses: 10, now: c.now });
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false]);
    c.advance(99);
    assert.equal(limiter.take('a'), false, '0.99 tokens is not a token');
    c.advance(1);
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
  });

  test('addresses have their own buckets', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, maxAddresses: 10, now: () => 0 });
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.take('b'), true);
  });

  test('a rate of 0 turns the limit off', () => {
    const limiter = new RateLimiter({ perSecond: 0, burst: 1, maxAddresses: 1, now: () => 0 });
    for (let i = 0; i < 100; i++) assert.equal(limiter.take(`a${i % 3}`), true);
    assert.equal(limiter.size, 0);
  });

  test('the address map is bounded: the least recently seen address is forgotten', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, maxAddresses: 2, now: () => 0 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a'); // refused, but 'a' is now the most recent
    limiter.take('c'); // forgets 'b'
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take('a'), false, "'a' was kept with its empty bucket");
    assert.equal(limiter.take('b'), true, "'b' was forgotten and starts full");
  });

  test('property: over any schedule an address gets at most burst + rate × elapsed, and the map never exceeds its bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 300 })), { maxLength: 300 }),
        (perSecond, burst, maxAddresses, steps) => {
          const c = clock();
          const limiter = new RateLimiter({ perSecond, burst, maxAddresses, now: c.now });
          const granted = new Map<number, number>();
          for (const [address, waitMs] of steps) {
            c.advance(waitMs);
            if (limiter.take(String(address))) granted.set(address, (granted.get(address) ?? 0) + 1);
            assert.ok(limiter.size <= maxAddresses);
          }
          // Forgetting can only reset a bucket to full: bound by one burst per forgetting, so check
          // the exact bound when nothing was forgotten.
          if (new Set(steps.map(([a]) => a)).size <= maxAddresses) {
            const elapsedS = c.now() / 1000;
            for (const count of granted.values()) assert.ok(count <= burst + perSecond * elapsedS + 1e-9, `${count} > ${burst} + ${perSecond} × ${elapsedS}`);
          }
        },
      ),
    );
  });

  test('a bad configuration is a RangeError', () => {
    assert.throws(() => new RateLimiter({ perSecond: -1, burst: 1, maxAddresses: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ perSecond: 1, burst: 0, maxAddresses: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ perSecond: 1, burst: 1, maxAddresses: 0 }), RangeError);
  });
});
