/**
 * CreditGate.wakeOnPredictedCredit: the synchronous sender's wait (OutboundAudio's pump). A
 * callback from the gate's one predictive timer, at the moment the prediction gives the credit;
 * nothing armed when only a report can give it. Mock timers and Date, except where the live timer
 * count is the point.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { CreditGate } from '../../src/flow/credit-gate.js';
import { activeTimers } from './helpers.js';

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

/** A lead bound far beyond any test's time span, where the bound is not what is tested. */
function predictive(windowMs: number, clock: () => number = () => Date.now(), leadMs = 1e9): CreditGate {
  return new CreditGate({ windowMs, clock, leadMs });
}

/** Fills the window and confirms `playedMs`: from here the model runs. */
function fillAndStart(gate: CreditGate, playedMs: number): void {
  assert.equal(gate.trySpend(gate.windowMs), true);
  gate.played(playedMs);
}

describe('CreditGate.wakeOnPredictedCredit', () => {
  test('calls back once, from the timer, when the prediction gives the credit asked for', (t) => {
    mockClock(t);
    const gate = predictive(800);
    fillAndStart(gate, 100); // credit 100, growing 1 ms per ms
    const wakes: number[] = [];
    assert.equal(gate.wakeOnPredictedCredit(300, () => wakes.push(gate.credit)), true);
    t.mock.timers.tick(199);
    assert.deepEqual(wakes, []);
    t.mock.timers.tick(1);
    assert.deepEqual(wakes, [300]);
    t.mock.timers.tick(10_000);
    assert.deepEqual(wakes, [300]);
  });

  test('arms nothing when only a report can give the credit (no playback confirmed; the lead bound)', (t) => {
    mockClock(t);
    const before = predictive(800);
    before.trySpend(800); // sent, nothing confirmed: the player may not have started
    assert.equal(before.wakeOnPredictedCredit(100, () => assert.fail('no wake-up expected')), false);
    const bounded = predictive(800, () => Date.now(), 250);
    fillAndStart(bounded, 100); // the prediction stops at 100 + 250: credit at most 350
    assert.equal(bounded.wakeOnPredictedCredit(400, () => assert.fail('no wake-up expected')), false);
    t.mock.timers.tick(60_000);
  });

  test('a later call replaces the callback; cancel and abort drop it and its timer', () => {
    const clock = () => performance.now();
    const before = activeTimers();
    const gate = predictive(800, clock);
    fillAndStart(gate, 1);
    assert.equal(gate.wakeOnPredictedCredit(700, () => assert.fail('replaced')), true);
    assert.equal(gate.wakeOnPredictedCredit(700, () => assert.fail('cancelled')), true);
    assert.equal(activeTimers(), before + 1);
    gate.cancelWakeOnPredictedCredit();
    assert.equal(activeTimers(), before);
    assert.equal(gate.wakeOnPredictedCredit(700, () => assert.fail('aborted')), true);
    gate.abort('barge-in');
    assert.equal(activeTimers(), before);
  });

  test('a waiting spend() and the callback share the one timer; the spend leaving does not cancel the callback', async (t) => {
    mockClock(t);
    const gate = predictive(800);
    fillAndStart(gate, 100);
    const wakes: number[] = [];
    const spend = gate.spend(200); // credit 200 at 100
    assert.equal(gate.wakeOnPredictedCredit(300, () => wakes.push(Date.now())), true);
    t.mock.timers.tick(100);
    await spend; // credit 200 spent at 100: now 0, and 300 at 400
    t.mock.timers.tick(299);
    assert.deepEqual(wakes, []);
    t.mock.timers.tick(1);
    assert.deepEqual(wakes, [400]);
  });
});
