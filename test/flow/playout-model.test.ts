import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_LEAD_MS, PlayoutModel } from '../../src/flow/playout-model.js';
import { throwsWithCode } from './helpers.js';

describe('PlayoutModel prediction', () => {
  test('before anything is sent it predicts nothing played', () => {
    const model = new PlayoutModel();
    assert.deepEqual([model.predicted(0), model.predicted(10_000), model.sentMs, model.confirmedMs, model.leadMs], [0, 0, 0, 0, DEFAULT_LEAD_MS]);
  });

  test('after a send to a dry player the prediction waits for the first confirmation (playback starts on arrival)', () => {
    const model = new PlayoutModel({ leadMs: 10_000 });
    model.sent(500, 1_000);
    assert.deepEqual([model.predicted(1_000), model.predicted(5_000)], [0, 0]);
  });

  test('from a confirmation playback runs in real time, up to what was sent', () => {
    const model = new PlayoutModel({ leadMs: 10_000 });
    model.sent(1_000, 0);
    model.confirm(100, 250);
    assert.deepEqual([model.predicted(250), model.predicted(450), model.predicted(5_000), model.confirmedMs], [100, 300, 1_000, 100]);
  });

  test('a confirmation behind the prediction corrects the rate of advance but never moves the prediction back', () => {
    const model = new PlayoutModel({ leadMs: 10_000 });
    model.sent(2_000, 0);
    model.confirm(200, 300);
    // Predicted 600 at 700; the next echo says 400 (it was held 200 ms on the way).
    model.confirm(400, 700);
    assert.equal(model.predicted(700), 600);
    assert.equal(model.predicted(800), 600); // extrapolated 500: still below the floor
    assert.equal(model.predicted(1_000), 700); // extrapolation passed it
  });

  test('after an underrun the prediction stays where the player ran dry until the next confirmation', () => {
    const model = new PlayoutModel({ leadMs: 10_000 });
    model.sent(200, 0);
    model.confirm(200, 300); // all played
    model.sent(100, 1_000); // dry from 300 to 1 000
    assert.deepEqual([model.predicted(1_000), model.predicted(2_000)], [200, 200]);
    model.confirm(250, 1_200);
    assert.equal(model.predicted(1_230), 280);
  });

  test('the prediction never runs more than the lead past the last confirmation (a stalled downlink)', () => {
    const model = new PlayoutModel({ leadMs: 250 });
    model.sent(2_000, 0);
    model.confirm(100, 100);
    // Without the bound it would be 100 + 1 200; with it, 100 + 250.
    assert.equal(model.predicted(1_300), 350);
    model.confirm(150, 1_400); // a later echo cannot pull it back, and lifts the bound to 400
    assert.deepEqual([model.predicted(1_400), model.predicted(2_000)], [350, 400]);
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
    throwsWithCode(() => new PlayoutModel({ leadMs: -1 }), 'VW_ERR_INVALID_SIZE');
  });

  test('reachesAt tells when time alone brings the prediction to a position, and when it cannot', () => {
    const model = new PlayoutModel({ leadMs: 300 });
    model.sent(1_000, 0);
    assert.equal(model.reachesAt(0, 50), 50);
    assert.equal(model.reachesAt(10, 50), undefined); // frozen until the first confirmation
    model.confirm(100, 100);
    assert.equal(model.reachesAt(300, 150), 300);
    assert.equal(model.reachesAt(401, 150), undefined); // past the lead bound: only a confirmation helps
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
  });

  test('the marker behind a clear (position 0 right after a reset) measures the round trip, and starts no playback', () => {
    const model = new PlayoutModel();
    model.reset(2_000);
    model.sent(500, 2_050); // the next answer's audio, sent before the marker's echo arrived
    assert.deepEqual(model.confirm(0, 2_090), { kind: 'rtt', ms: 90 });
    assert.equal(model.predicted(3_000), 0);
    assert.deepEqual(model.confirm(100, 3_000), { kind: 'rtt', ms: 850 }); // from the send at 2 050
  });

  test('without a marker the clear gives no sample: the first audio confirmation measures from its send', () => {
    const model = new PlayoutModel();
    model.reset(2_000);
    model.sent(500, 5_000); // the next answer starts 3 s later
    assert.deepEqual(model.confirm(200, 5_300), { kind: 'rtt', ms: 100 });
  });
});

describe('PlayoutModel invariants', () => {
  const step = fc.oneof(
    fc.record({ send: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ confirm: fc.integer({ min: 0, max: 3_000 }) }),
    fc.record({ wait: fc.integer({ min: 0, max: 1_500 }) }),
    fc.constant({ reset: true as const }),
  );

  test('confirmed ≤ predicted ≤ sent, the prediction never passes the lead bound by itself, and only a reset moves it back', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 0, max: 600 }), (steps, leadMs) => {
        const model = new PlayoutModel({ leadMs });
        let now = 0;
        let last = 0;
        for (const s of steps) {
          if ('send' in s) model.sent(s.send, now);
          else if ('confirm' in s) model.confirm(s.confirm, now);
          else if ('wait' in s) now += s.wait;
          else {
            model.reset(now);
            last = 0;
          }
          const predicted = model.predicted(now);
          assert.ok(model.confirmedMs <= predicted, `confirmed ${model.confirmedMs} > predicted ${predicted}`);
          assert.ok(predicted <= model.sentMs, `predicted ${predicted} > sent ${model.sentMs}`);
          assert.ok(predicted >= last, `prediction went back from ${last} to ${predicted}`);
          last = predicted;
        }
      }),
      { numRuns: 300 },
    );
  });

  test('with confirmations withheld, the prediction stops at the last confirmation + the lead', () => {
    fc.assert(
      // confirmed ≥ 1: a confirmation of 0 starts no playback (tested above).
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 20_000 }), (sent, confirmed, leadMs, later) => {
        const model = new PlayoutModel({ leadMs });
        model.sent(sent, 0);
        model.confirm(confirmed, 0);
        assert.equal(model.predicted(later), Math.min(sent, Math.min(confirmed, sent) + Math.min(leadMs, later)));
      }),
      { numRuns: 300 },
    );
  });
});
