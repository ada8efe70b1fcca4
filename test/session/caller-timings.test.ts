import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallerTimings } from '../../src/session/caller-timings.js';

describe('CallerTimings', () => {
  test('first audio: speech end → the moment the first answer sample played, dated back from the report', () => {
    const t = new CallerTimings();
    t.played(0, 1_000, 500); // the greeting played to 1 000 ms of epoch 0
    t.speechStopped(2_000);
    assert.equal(t.responseStarted('r1', 2_300), 300);
    assert.equal(t.responseStarted('r1', 2_400), undefined, 'once per turn');
    // The first report of the answer: 200 ms past the baseline, received at 2 900 → it began at 2 700.
    assert.deepEqual(t.played(0, 1_200, 2_900), { firstAudio: { responseId: 'r1', firstAudioMs: 700 } });
    assert.deepEqual(t.played(0, 1_400, 3_100), {}, 'only the first');
  });

  test('first audio is never dated before the answer started', () => {
    const t = new CallerTimings();
    t.speechStopped(0);
    t.responseStarted('r1', 400);
    assert.deepEqual(t.played(0, 900, 1_000).firstAudio, { responseId: 'r1', firstAudioMs: 400 });
  });

  test('reports before the answer started, or of an older epoch, do not count', () => {
    const t = new CallerTimings();
    t.played(3, 500, 0);
    t.speechStopped(1_000);
    assert.deepEqual(t.played(3, 600, 1_100), {}, 'no response yet');
    t.responseStarted('r', 1_200);
    assert.deepEqual(t.played(2, 900, 1_300), {}, 'an older epoch');
    assert.deepEqual(t.played(4, 100, 1_500).firstAudio, { responseId: 'r', firstAudioMs: 400 });
  });

  test('barge-in → silence: the first played report of the clear\'s epoch confirms it', () => {
    const t = new CallerTimings();
    t.cleared(5, 1_000, 1_002);
    assert.deepEqual(t.played(4, 300, 1_010), {}, 'an echo from before the clear');
    assert.deepEqual(t.played(5, 0, 1_047), { silence: { epoch: 5, clearToSilenceMs: 45, bargeInToSilenceMs: 47 } });
    assert.deepEqual(t.played(5, 100, 1_200), {}, 'reported once');
  });

  test('property: figures are never negative when time moves forward', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 50 })), { maxLength: 40 }), (steps) => {
        const t = new CallerTimings();
        let now = 0;
        let epoch = 0;
        let position = 0;
        for (const [kind, epochStep, ms, dt] of steps) {
          now += dt;
          if (kind === 0) t.speechStopped(now);
          else if (kind === 1) t.responseStarted(`r${now}`, now);
          else if (kind === 2) {
            epoch += epochStep > 3 ? 1 : 0;
            t.cleared(epoch, now, now);
          } else {
            position = epochStep > 3 ? 0 : position + (ms % 400);
            const r = t.played(epoch, position, now);
            if (r.firstAudio) assert.ok(r.firstAudio.firstAudioMs >= 0);
            if (r.silence) assert.ok(r.silence.clearToSilenceMs >= 0 && r.silence.bargeInToSilenceMs >= r.silence.clearToSilenceMs);
          }
        }
      }),
    );
  });
});
