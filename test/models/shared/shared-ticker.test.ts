// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedTicker, sharedTicker } from '../../../src/models/shared/shared-ticker.js';

describe('SharedTicker', () => {
  test('runs every registered job once per run, each once even if added twice', () => {
    const ticker = new SharedTicker(20);
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    const b = (): void => void calls.push('b');
    ticker.add(a);
    ticker.add(a);
    ticker.add(b);
    ticker.runAll(5);
    assert.deepEqual(calls, ['a', 'b']);
    ticker.delete(a);
    ticker.runAll(6);
    assert.deepEqual(calls, ['a', 'b', 'b']);
    ticker.delete(b);
    assert.equal(ticker.size, 0);
  });

  test('one interval drives every job while any is registered, and stops with the last', async () => {
    const ticker = new SharedTicker(5);
    const seen = new Set<string>();
    const jobs: Array<() => void> = [];
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('jobs did not run')), 2000);
      const check = (): void => {
        if (seen.size === 2) {
          clearTimeout(deadline);
          resolve();
        }
      };
      jobs.push(() => (seen.add('x'), check()), () => (seen.add('y'), check()));
      for (const job of jobs) ticker.add(job);
    });
    assert.deepEqual([...seen].sort(), ['x', 'y']);
    for (const job of jobs) ticker.delete(job);
    assert.equal(ticker.size, 0);
  });

  test('a period that is not a finite positive number is a RangeError', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new SharedTicker(bad), RangeError);
  });

  test('sharedTicker: one ticker per period for the whole process', () => {
    const a = sharedTicker(12_345);
    assert.equal(sharedTicker(12_345), a);
    assert.notEqual(sharedTicker(12_346), a);
    assert.equal(a.periodMs, 12_345);
  });
});
