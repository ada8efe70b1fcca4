import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AUTO_WINDOW_MAX_MS, AUTO_WINDOW_MIN_MS, WindowTuner, type WindowChange } from '../../src/flow/window-tuner.js';
import { throwsWithCode } from './helpers.js';

describe('WindowTuner bounds', () => {
  test('starts at the initial window clamped to 400–1500', () => {
    assert.equal(new WindowTuner({ initialMs: 800 }).windowMs, 800);
    assert.equal(new WindowTuner({ initialMs: 200 }).windowMs, AUTO_WINDOW_MIN_MS);
    assert.equal(new WindowTuner({ initialMs: 3_000 }).windowMs, AUTO_WINDOW_MAX_MS);
  });

  test("a caller's capacity caps the window; below 400 it is the window", () => {
    const small = new WindowTuner({ initialMs: 800, maxMs: 600 });
    assert.deepEqual([small.minMs, small.maxMs, small.windowMs], [400, 600, 600]);
    const tiny = new WindowTuner({ initialMs: 800, maxMs: 300 });
    assert.deepEqual([tiny.minMs, tiny.maxMs, tiny.windowMs], [300, 300, 300]);
  });

  test('NaN or non-positive sizes are refused with VW_ERR_INVALID_SIZE', () => {
    throwsWithCode(() => new WindowTuner({ initialMs: Number.NaN }), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new WindowTuner({ initialMs: 800, maxMs: 0 }), 'VW_ERR_INVALID_SIZE');
  });
});

describe('WindowTuner growth', () => {
  test('a round trip grows the window to srtt + 4·rttvar + margin, rounded up to 50 ms', () => {
    const tuner = new WindowTuner({ initialMs: 400 });
    // First sample 300: srtt 300, rttvar 150 → 300 + 600 + 100 = 1 000.
    assert.deepEqual(tuner.observe({ kind: 'rtt', ms: 300 }, 0), { windowMs: 1_000, previousMs: 400, reason: 'rtt', needMs: 1_000 });
    assert.equal(tuner.rttMs, 300);
  });

  test('a short round trip leaves the window as it is', () => {
    const tuner = new WindowTuner({ initialMs: 800 });
    assert.equal(tuner.observe({ kind: 'rtt', ms: 100 }, 0), undefined); // need 100 + 200 + 100 = 400
    assert.equal(tuner.windowMs, 800);
  });

  test('a late echo grows the window by the stall', () => {
    const tuner = new WindowTuner({ initialMs: 400 });
    tuner.observe({ kind: 'rtt', ms: 100 }, 0);
    assert.deepEqual(tuner.observe({ kind: 'lateness', ms: 480 }, 1_000), { windowMs: 900, previousMs: 400, reason: 'late-echo', needMs: 880 });
  });

  test('an early echo (negative lateness) changes nothing', () => {
    const tuner = new WindowTuner({ initialMs: 400 });
    tuner.observe({ kind: 'rtt', ms: 100 }, 0);
    assert.equal(tuner.observe({ kind: 'lateness', ms: -150 }, 100), undefined);
    assert.equal(tuner.needMs(100), 400);
  });

  test('an underrun grows the window by 200 ms, up to the maximum', () => {
    const tuner = new WindowTuner({ initialMs: 800 });
    assert.deepEqual(tuner.underrun(0), { windowMs: 1_000, previousMs: 800, reason: 'underrun', needMs: 1_000 });
    tuner.underrun(1);
    tuner.underrun(2);
    assert.equal(tuner.windowMs, 1_400);
    assert.equal(tuner.underrun(3)?.windowMs, 1_500);
    assert.equal(tuner.underrun(4), undefined);
  });
});

describe('WindowTuner shrinking', () => {
  /** Ticks every 100 ms for `ms` from `from`; returns the changes with their time. */
  function run(tuner: WindowTuner, from: number, ms: number): Array<WindowChange & { at: number }> {
    const changes: Array<WindowChange & { at: number }> = [];
    for (let at = from; at <= from + ms; at += 100) {
      const change = tuner.tick(at);
      if (change) changes.push({ ...change, at });
    }
    return changes;
  }

  test('on a clean link it shrinks by 50 ms every 5 s, down to the minimum', () => {
    const tuner = new WindowTuner({ initialMs: 800 });
    tuner.observe({ kind: 'rtt', ms: 20 }, 0); // need 20 + 40 + 100 = 160
    const changes = run(tuner, 0, 60_000);
    assert.deepEqual(changes.map((c) => c.windowMs), [750, 700, 650, 600, 550, 500, 450, 400]);
    assert.deepEqual(changes.map((c) => c.at), [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000]);
    assert.ok(changes.every((c) => c.reason === 'clean'), 'every shrink is "clean"');
  });

  test('it never shrinks before a round trip was measured', () => {
    const tuner = new WindowTuner({ initialMs: 800 });
    assert.deepEqual(run(tuner, 0, 60_000), []);
  });

  test('it stops 100 ms above need (hysteresis)', () => {
    const tuner = new WindowTuner({ initialMs: 1_500 });
    tuner.observe({ kind: 'rtt', ms: 300 }, 0); // need 1 000 → stops at 1 100
    tuner.observe({ kind: 'rtt', ms: 300 }, 0); // rttvar decays: 112.5 → need 850 → floor 950
    const changes = run(tuner, 0, 120_000);
    assert.equal(changes.at(-1)?.windowMs, 950);
  });

  test('after an underrun the window holds, then shrinks as the stall decays (20 s half-life)', () => {
    const tuner = new WindowTuner({ initialMs: 800 });
    tuner.observe({ kind: 'rtt', ms: 100 }, 0); // need 400 without stalls
    tuner.underrun(0); // 1 000
    const changes = run(tuner, 0, 200_000);
    // need = 400 + 600·2^(−t/20 s); a shrink needs window − 50 ≥ roundUp(need) + 100, so the first
    // one (to 950) waits for need ≤ 850: t ≥ 20 s·log2(600/450) = 8.3 s.
    assert.deepEqual(changes[0] && [changes[0].at, changes[0].windowMs], [8_400, 950]);
    assert.ok(changes.every((c) => c.reason === 'clean'), 'every shrink is "clean"');
    // need 400 (srtt 100, rttvar 50) + hysteresis, once the stall is gone (< 5 ms after 138 s).
    assert.deepEqual(changes.at(-1) && [changes.at(-1)?.windowMs, changes.at(-1)!.at >= 138_000], [500, true]);

  });
});

describe('WindowTuner invariants', () => {
  const event = fc.oneof(
    fc.record({ rtt: fc.integer({ min: 0, max: 3_000 }) }),
    fc.record({ late: fc.integer({ min: -2_000, max: 3_000 }) }),
    fc.constant({ underrun: true as const }),
    fc.record({ wait: fc.integer({ min: 0, max: 30_000 }) }),
  );

  test('the window stays within its bounds, and every reported change is a real change in the stated direction', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), fc.integer({ min: 100, max: 3_000 }), fc.option(fc.integer({ min: 100, max: 2_000 }), { nil: undefined }), (events, initialMs, maxMs) => {
        const tuner = new WindowTuner({ initialMs, ...(maxMs === undefined ? {} : { maxMs }) });
        let now = 0;
        for (const e of events) {
          let change: WindowChange | undefined;
          if ('rtt' in e) change = tuner.observe({ kind: 'rtt', ms: e.rtt }, now);
          else if ('late' in e) change = tuner.observe({ kind: 'lateness', ms: e.late }, now);
          else if ('underrun' in e) change = tuner.underrun(now);
          else change = tuner.tick((now += e.wait));
          assert.ok(tuner.windowMs >= tuner.minMs && tuner.windowMs <= tuner.maxMs, `window ${tuner.windowMs} outside ${tuner.minMs}–${tuner.maxMs}`);
          if (change) {
            assert.equal(change.windowMs, tuner.windowMs);
            assert.notEqual(change.windowMs, change.previousMs);
            assert.equal(change.windowMs < change.previousMs, change.reason === 'clean', `${change.reason}: ${change.previousMs} → ${change.windowMs}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
