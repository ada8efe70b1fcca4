import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WaitDeadline } from '../../src/flow/wait-deadline.js';
import { activeTimers } from './helpers.js';

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

function deadline(ms: number): { deadline: WaitDeadline; expiries: number[] } {
  const expiries: number[] = [];
  const made = new WaitDeadline(ms, () => Date.now(), () => expiries.push(Date.now()));
  return { deadline: made, expiries };
}

describe('WaitDeadline', () => {
  test('a wait that lasts the deadline expires once, at the deadline', (t) => {
    mockClock(t);
    const { deadline: d, expiries } = deadline(1_000);
    d.begin();
    t.mock.timers.tick(999);
    d.begin(); // the wait in progress keeps its start
    assert.deepEqual(expiries, []);
    t.mock.timers.tick(1);
    assert.deepEqual(expiries, [1_000]);
    assert.equal(d.waiting, false);
    t.mock.timers.tick(10_000);
    assert.deepEqual(expiries, [1_000]);
  });

  test('runs from the start of the current wait, not of the one that armed the timer', (t) => {
    mockClock(t);
    const { deadline: d, expiries } = deadline(1_000);
    for (let at = 0; at < 5_000; at += 100) {
      d.begin();
      t.mock.timers.tick(90);
      d.end();
      t.mock.timers.tick(10);
    }
    d.begin(); // at 5 000
    t.mock.timers.tick(999);
    assert.deepEqual(expiries, []);
    t.mock.timers.tick(1);
    assert.deepEqual(expiries, [6_000]);
  });

  test('short waits share one timer, and cancel releases it', () => {
    const before = activeTimers();
    const d = new WaitDeadline(60_000, () => performance.now(), () => assert.fail('no expiry expected'));
    for (let i = 0; i < 100; i++) {
      d.begin();
      d.end();
    }
    assert.equal(activeTimers(), before + 1);
    d.begin();
    d.cancel();
    assert.equal(activeTimers(), before);
    assert.equal(d.waiting, false);
  });

  test('a deadline past the longest timer is none', (t) => {
    mockClock(t);
    const { deadline: d, expiries } = deadline(2 ** 31);
    d.begin();
    t.mock.timers.tick(2 ** 31 + 1);
    assert.deepEqual(expiries, []);
  });
});
