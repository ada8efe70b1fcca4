import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_LEAD_BASE_MS, PlayoutModel } from '../../src/flow/playout-model.js';
import { throwsWithCode } from './helpers.js';

describe('PlayoutModel prediction', () => {
  test('before anything is sent it predicts nothing played', () => {
    const model = new PlayoutModel();
    assert.deepEqual([model.predicted(0), model.predicted(10_000), model.sentMs, model.confirmedMs], [0, 0, 0, 0]);
    assert.equal(model.rttMs, undefined);
    assert.equal(model.leadMs, DEFAULT_LEAD_BASE_MS);
  });

  test('a send to a dry player starts playback then, in real time, up to what was sent', () => {
    const model = new PlayoutModel({ leadBaseMs: 10_000 });
    model.sent(500, 1_000);
    assert.deepEqual([model.predicted(1_000), model.predicted(1_200), model.predicted(1_500), model.predicted(9_000)], [0, 200, 500, 500]);
  });

  test('a confirmation re-anchors the prediction at its position and arrival time', () => {
    const model = new PlayoutModel({ leadBaseMs: 10_000 });
    model.sent(1_000, 0);
    // The echo of 100 ms arrives at 250: the caller was 150 ms behind the send-time prediction.
    model.confirm(100, 250);
    assert.deepEqual([model.predicted(250), model.predicted(450), model.confirmedMs], [100, 300, 100]);
  });

  test('playback after an underrun restarts at the next send, not at the last confirmation', () => {
    const model = new PlayoutModel({ leadBaseMs: 10_000 });
    model.sent(200, 0);
    model.confirm(200, 300); // all played
    model.sent(100, 1_000); // the player was dry from 300 to 1 000
    assert.deepEqual([model.predicted(1_000), model.predicted(1_050), model.predicted(2_000)], [200, 250, 300]);
  });

  test('the prediction never runs more than the lead past the last confirmation (a stalled downlink)', () => {
    const model = new PlayoutModel({ leadBaseMs: 250 });
    model.sent(2_000, 0);
    model.confirm(100, 100); // a round trip of 0: the lead is the base alone
    assert.equal(model.leadMs, 250);
    // Without the bound it would be 100 + 1 200; with it, 100 + the lead.
    assert.equal(model.predicted(1_300), 350);
  });

  test('the lead bound grows with the measured round trip', () => {
    const model = new PlayoutModel({ leadBaseMs: 250 });
    model.sent(1_000, 0);
    assert.deepEqual(model.confirm(200, 300), { kind: 'rtt', ms: 100 }); // echo of 200 at 300: 100 ms round trip
    assert.equal(model.leadMs, 350);
    assert.equal(model.predicted(2_000), 550);
  });

  test('regressions are ignored and positions past what was sent are clamped', () => {
    const model = new PlayoutModel();
    model.sent(300, 0);
    model.confirm(200, 200);
    assert.equal(model.confirm(100, 250), undefined);
    assert.equal(model.confirmedMs, 200);
    model.confirm(5_000, 300);
    assert.equal(model.confirmedMs, 300);
  });

  test('bad times and sizes are refused with VW_ERR_INVALID_SIZE', () => {
    const model = new PlayoutModel();
    throwsWithCode(() => model.sent(Number.NaN, 0), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => model.sent(10, Number.NaN), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => model.confirm(-1, 0), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => model.confirm(0, Number.POSITIVE_INFINITY), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new PlayoutModel({ leadBaseMs: -1 }), 'VW_ERR_INVALID_SIZE');
  });

  test('reachesAt tells when time alone brings the prediction to a position, and when it cannot', () => {
    const model = new PlayoutModel({ leadBaseMs: 300 });
    model.sent(1_000, 0);
    assert.equal(model.reachesAt(0, 50), 50);
    assert.equal(model.reachesAt(200, 50), 200);
    assert.equal(model.reachesAt(301, 50), undefined); // past the lead bound: only a confirmation helps
    model.confirm(900, 1_000);
    assert.equal(model.reachesAt(1_000, 1_000), 1_100);
    assert.equal(model.reachesAt(1_001, 1_000), undefined); // past what was sent
  });
});

describe('PlayoutModel samples', () => {
  test('a confirmation on time is 0 late; one held by a stall is late by the stall', () => {
    const model = new PlayoutModel();
    model.sent(2_000, 0);
    model.confirm(200, 300);
    assert.deepEqual(model.confirm(400, 500), { kind: 'lateness', ms: 0 });
    assert.deepEqual(model.confirm(600, 1_100), { kind: 'lateness', ms: 400 });
  });

  test('the first confirmation after a send from dry measures the round trip; later ones do not', () => {
    const model = new PlayoutModel();
    model.sent(1_000, 1_000);
    assert.deepEqual(model.confirm(200, 1_330), { kind: 'rtt', ms: 130 });
    assert.equal(model.confirm(400, 1_530)?.kind, 'lateness');
    assert.equal(model.rttMs, 130);
  });

  test('the marker behind a clear (position 0 right after a reset) measures the round trip', () => {
    const model = new PlayoutModel();
    model.sent(500, 0);
    model.reset(2_000);
    assert.deepEqual(model.confirm(0, 2_090), { kind: 'rtt', ms: 90 });
  });

  test('without a marker the clear gives no sample: the first audio confirmation measures from its send', () => {
    const model = new PlayoutModel();
    model.reset(2_000);
    model.sent(500, 5_000); // the next answer starts 3 s later
    assert.deepEqual(model.confirm(200, 5_300), { kind: 'rtt', ms: 100 });
  });

  test('the smoothed round trip follows samples with gain 1/8 and survives a reset', () => {
    const model = new PlayoutModel();
    model.sent(100, 0);
    model.confirm(100, 200); // 100
    model.reset(1_000);
    model.confirm(0, 1_900); // 900
    assert.equal(model.rttMs, 100 + (900 - 100) / 8);
  });
});

describe('PlayoutModel invariants', () => {
  const step = fc.oneof(
    fc.record({ send: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ confirm: fc.integer({ min: 0, max: 3_000 }) }),
    fc.record({ wait: fc.integer({ min: 0, max: 1_500 }) }),
    fc.constant({ reset: true as const }),
  );

  test('confirmed ≤ predicted ≤ min(sent, confirmed + lead), and the prediction never moves back without a confirmation', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 0, max: 600 }), (steps, leadBaseMs) => {
        const model = new PlayoutModel({ leadBaseMs });
        let now = 0;
        let last = 0;
        for (const s of steps) {
          let moved = false;
          if ('send' in s) model.sent(s.send, now);
          else if ('confirm' in s) (model.confirm(s.confirm, now), (moved = true));
          else if ('wait' in s) now += s.wait;
          else (model.reset(now), (moved = true));
          const predicted = model.predicted(now);
          assert.ok(model.confirmedMs <= predicted, `confirmed ${model.confirmedMs} > predicted ${predicted}`);
          assert.ok(predicted <= model.sentMs, `predicted ${predicted} > sent ${model.sentMs}`);
          assert.ok(predicted <= model.confirmedMs + model.leadMs + 1e-9, `predicted ${predicted} past the lead bound`);
          if (!moved) assert.ok(predicted >= last, `prediction went back from ${last} to ${predicted}`);
          last = predicted;
        }
      }),
      { numRuns: 300 },
    );
  });
});
