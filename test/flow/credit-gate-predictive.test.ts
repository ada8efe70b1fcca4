/**
 * CreditGate with predictive credit (a clock): credit grows with time as the modelled player
 * drains, one deadline timer wakes a waiting sender, reports correct the model.
 * Timers and Date are node's mock timers here, except where the live timer count is the point.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { CreditGate } from '../../src/flow/credit-gate.js';
import { activeTimers, rejectsWithCode, stateOf, throwsWithCode } from './helpers.js';

/** A lead bound far beyond any test's time span, where the bound is not what is tested. */
const NO_LEAD_BOUND = 1e9;

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

function predictive(windowMs: number, leadMs = NO_LEAD_BOUND): CreditGate {
  return new CreditGate({ windowMs, clock: () => Date.now(), leadMs });
}

/** Fills the window at `now` and confirms `playedMs` then: from here the model runs. */
function fillAndStart(gate: CreditGate, playedMs: number): void {
  assert.equal(gate.trySpend(gate.windowMs), true);
  gate.played(playedMs);
}

describe('CreditGate predictive credit', () => {
  test('credit grows with time from the last report as the modelled player drains', (t) => {
    mockClock(t);
    const gate = predictive(800);
    fillAndStart(gate, 100);
    assert.equal(gate.credit, 100);
    t.mock.timers.tick(300);
    assert.deepEqual([gate.credit, gate.inFlightMs, gate.playedMs], [400, 400, 100]);
    t.mock.timers.tick(10_000);
    assert.equal(gate.credit, 800); // played out: never more than the window
  });

  test('before the first report of played audio credit does not grow with time (playback starts on arrival)', (t) => {
    mockClock(t);
    const gate = predictive(800);
    gate.trySpend(800);
    t.mock.timers.tick(5_000);
    assert.equal(gate.credit, 0);
    gate.played(0); // a report of position 0 (the marker behind a clear) confirms no playback
    t.mock.timers.tick(5_000);
    assert.equal(gate.credit, 0);
  });

  test('a waiting spend is woken by its deadline, not by a report', async (t) => {
    mockClock(t);
    const gate = predictive(800);
    fillAndStart(gate, 100);
    const spend = gate.spend(200);
    t.mock.timers.tick(99);
    assert.equal(await stateOf(spend), 'pending');
    t.mock.timers.tick(1);
    await spend;
    assert.deepEqual([gate.sentMs, gate.credit], [1_000, 0]);
  });

  test('a report behind the prediction never takes credit back; the prediction runs on from the report', (t) => {
    mockClock(t);
    const gate = predictive(800);
    fillAndStart(gate, 100);
    t.mock.timers.tick(300);
    gate.played(200); // the echo was held 200 ms on the way
    assert.equal(gate.credit, 400);
    t.mock.timers.tick(150);
    assert.equal(gate.credit, 400); // extrapolated 350: below what was already granted
    t.mock.timers.tick(100);
    assert.equal(gate.credit, 450);
  });

  test('past the lead bound only a report brings credit: the waiting sender has no timer then', async (t) => {
    mockClock(t);
    const gate = predictive(400, 100);
    fillAndStart(gate, 50);
    const spend = gate.spend(200); // needs 200 played; the prediction stops at 50 + 100
    t.mock.timers.tick(5_000);
    assert.equal(await stateOf(spend), 'pending');
    assert.equal(gate.credit, 150);
    gate.played(160); // credit 160, and the model runs again from there
    assert.equal(await stateOf(spend), 'pending');
    t.mock.timers.tick(40);
    await spend;
  });

  test('a grant counts as that much more played', (t) => {
    mockClock(t);
    const gate = predictive(800);
    gate.trySpend(800);
    gate.grant(200);
    assert.deepEqual([gate.playedMs, gate.credit], [200, 200]);
  });

  test('reset refills the window and wakes the waiting sender at once', async (t) => {
    mockClock(t);
    const gate = predictive(800);
    gate.trySpend(800);
    const spend = gate.spend(500);
    gate.reset();
    await spend;
    assert.deepEqual([gate.sentMs, gate.credit], [500, 300]);
  });
});

describe('CreditGate predictive wake-up timer (real timers)', () => {
  const realGate = (): CreditGate => new CreditGate({ windowMs: 200, clock: () => performance.now(), leadMs: NO_LEAD_BOUND });

  test('several waiting senders share one timer, and none is left once they are served', async () => {
    const before = activeTimers();
    const gate = realGate();
    fillAndStart(gate, 1);
    const spends = [gate.spend(20), gate.spend(20), gate.spend(20)];
    assert.equal(activeTimers(), before + 1);
    await Promise.all(spends);
    assert.equal(activeTimers(), before);
  });

  test('abort clears the timer of a waiting sender', async () => {
    const before = activeTimers();
    const gate = realGate();
    fillAndStart(gate, 1);
    const spend = gate.spend(100);
    assert.equal(activeTimers(), before + 1);
    gate.abort('call ended');
    await rejectsWithCode(spend, 'VW_ERR_ABORTED');
    assert.equal(activeTimers(), before);
  });

  test('`ready` resolves when time alone gives credit', async () => {
    const gate = realGate();
    fillAndStart(gate, 1);
    await gate.ready;
    assert.ok(gate.credit > 0, `credit ${gate.credit}`);
  });
});

describe('CreditGate setWindow', () => {
  test('a smaller window leaves credit at 0 until the difference has played; a larger one wakes the sender', async (t) => {
    mockClock(t);
    const gate = predictive(800);
    gate.trySpend(800);
    gate.setWindow(500);
    assert.deepEqual([gate.windowMs, gate.credit], [500, 0]);
    const spend = gate.spend(100);
    gate.setWindow(1_000);
    await spend;
    assert.deepEqual([gate.sentMs, gate.credit], [900, 100]);
  });

  test('a waiting spend larger than a shrunk window fails with VW_ERR_CHUNK_TOO_LARGE', async (t) => {
    mockClock(t);
    const gate = predictive(800);
    gate.trySpend(800);
    const spend = gate.spend(600);
    gate.setWindow(400);
    gate.played(800); // wakes it: it re-checks against the new window
    await rejectsWithCode(spend, 'VW_ERR_CHUNK_TOO_LARGE');
  });

  test('the window stays clamped to 200–2000 and refuses NaN', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.setWindow(50);
    assert.equal(gate.windowMs, 200);
    gate.setWindow(9_000);
    assert.equal(gate.windowMs, 2_000);
    throwsWithCode(() => gate.setWindow(Number.NaN), 'VW_ERR_INVALID_SIZE');
  });
});

type Op =
  | { readonly spend: number }
  | { readonly played: number }
  | { readonly wait: number }
  | { readonly reset: true }
  | { readonly window: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ spend: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ played: fc.integer({ min: 0, max: 4_000 }) }) },
  { weight: 3, arbitrary: fc.record({ wait: fc.integer({ min: 0, max: 700 }) }) },
  { weight: 1, arbitrary: fc.constant({ reset: true as const }) },
  { weight: 1, arbitrary: fc.record({ window: fc.integer({ min: 200, max: 2_000 }) }) },
);

describe('CreditGate predictive invariants', () => {
  test('0 ≤ credit ≤ window; a spend never puts more than the window in flight by the model; played ≤ sent', (t) => {
    mockClock(t);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 200, max: 2_000 }), fc.integer({ min: 0, max: 800 }), (ops, windowMs, lead) => {
        const gate = predictive(windowMs, lead);
        const start = Date.now();
        let played = 0;
        for (const o of ops) {
          if ('spend' in o) {
            if (o.spend <= gate.windowMs && gate.trySpend(o.spend)) {
              assert.ok(gate.inFlightMs <= gate.windowMs + 1e-9, `in flight ${gate.inFlightMs} > window ${gate.windowMs}`);
            }
          } else if ('played' in o) {
            played = Math.max(played, Math.min(o.played, gate.sentMs));
            gate.played(played);
          } else if ('wait' in o) t.mock.timers.tick(o.wait);
          else if ('reset' in o) {
            gate.reset();
            played = 0;
          } else gate.setWindow(o.window);
          assert.ok(gate.credit >= 0 && gate.credit <= gate.windowMs, `credit ${gate.credit} outside 0–${gate.windowMs}`);
          assert.ok(gate.playedMs <= gate.sentMs, `played ${gate.playedMs} > sent ${gate.sentMs}`);
        }
        t.mock.timers.tick(Math.max(0, start - Date.now())); // keep time moving forward only
      }),
      { numRuns: 300 },
    );
  });

  test('after a reset credit is what a fresh gate fed the same later events would give (no leak across it)', (t) => {
    mockClock(t);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 30 }), (before, after) => {
        const gate = predictive(800);
        const apply = (target: CreditGate, o: Op, tick: boolean): void => {
          if ('spend' in o) target.trySpend(Math.min(o.spend, target.windowMs));
          // Reports claiming more than was sent (an old epoch's echo) are clamped to what was sent.
          else if ('played' in o) target.played(Math.max(target.playedMs, o.played));
          else if ('wait' in o) {
            if (tick) t.mock.timers.tick(o.wait);
          } else if ('reset' in o) target.reset();
          else target.setWindow(o.window);
        };
        for (const o of before) apply(gate, o, true);
        gate.reset();
        gate.setWindow(800);
        const fresh = predictive(800);
        for (const o of after) {
          if ('reset' in o || 'window' in o) continue;
          apply(gate, o, true);
          apply(fresh, o, false);
          assert.equal(gate.credit, fresh.credit, `credit ${gate.credit} after the reset, a fresh gate has ${fresh.credit}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
