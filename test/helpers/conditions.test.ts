import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Conditions } from './conditions.js';

describe('Conditions (test helper)', () => {
  test('resolves when a notify finds the condition true, not before', async () => {
    const conditions = new Conditions('t');
    let value = 0;
    let done = false;
    const waiting = conditions.until(() => value >= 2, 1_000).then(() => (done = true));
    value = 1;
    conditions.notify();
    await Promise.resolve();
    assert.equal(done, false);
    value = 2;
    conditions.notify();
    await waiting;
    assert.equal(conditions.size, 0);
  });

  test('rejects at the deadline with what was awaited', async () => {
    const conditions = new Conditions('fake x');
    await assert.rejects(conditions.until(() => false, 10, 'the answer'), /fake x: the answer not met within 10 ms/);
    assert.equal(conditions.size, 0);
  });

  test('close resolves true conditions and rejects the rest, and later waits fail at once', async () => {
    const conditions = new Conditions('fake y');
    let flag = false;
    const yes = conditions.until(() => flag, 1_000, 'yes');
    const no = conditions.until(() => false, 1_000, 'no');
    flag = true; // true by the close, never notified

    conditions.close('closed (1000)');
    await yes;
    await assert.rejects(no, /fake y: closed \(1000\) before no/);
    await assert.rejects(conditions.until(() => false, 1_000, 'later'), /closed \(1000\) before later/);
  });

  test('refuses more pending waits than its bound', async () => {
    const conditions = new Conditions('z', 2);
    const a = conditions.until(() => false, 50);
    const b = conditions.until(() => false, 50);
    await assert.rejects(conditions.until(() => false, 50), /more than 2 waits/);
    await Promise.allSettled([a, b]);
  });
});
