import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlayoutTracker } from '../../src/flow/playout-tracker.js';
import { throwsWithCode } from './helpers.js';

describe('PlayoutTracker timeline', () => {
  test('a new tracker has sent and played nothing and knows no item', () => {
    const tracker = new PlayoutTracker();
    assert.deepEqual([tracker.sentMs, tracker.playedMs, tracker.estimatePlayed(1000)], [0, 0, 0]);
    assert.equal(tracker.itemAt(0), undefined);
    assert.equal(tracker.playedOfItem('a', 100), 0);
  });

  test('consecutive sends of the same item merge into one segment', () => {
    const tracker = new PlayoutTracker();
    for (let i = 0; i < 50; i++) tracker.sent('a', 20);
    tracker.sent('b', 20);
    assert.equal(tracker.segmentCount, 2);
    assert.equal(tracker.sentMs, 1020);
    assert.equal(tracker.playedOfItem('a', 5000), 1000);
  });

  test('playedOfItem is 0 before the item started, partial inside it and its length once done', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 300);
    tracker.sent('b', 200);
    assert.equal(tracker.playedOfItem('b', 100), 0);
    assert.equal(tracker.playedOfItem('b', 350), 50);
    assert.equal(tracker.playedOfItem('a', 350), 300);
    assert.equal(tracker.playedOfItem('b', 10_000), 200);
  });

  test('an item sent in two runs counts both runs', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 100);
    tracker.sent('b', 100);
    tracker.sent('a', 100);
    assert.equal(tracker.playedOfItem('a', 250), 150);
  });

  test('itemAt names the item playing and the ms of it played so far', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 300);
    tracker.sent('b', 200);
    assert.deepEqual(tracker.itemAt(120), { itemId: 'a', offsetMs: 120 });
    assert.deepEqual(tracker.itemAt(420), { itemId: 'b', offsetMs: 120 });
  });

  test('at a boundary the next item is playing at offset 0; at the end the last item at its full length', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 300);
    tracker.sent('b', 200);
    assert.deepEqual(tracker.itemAt(300), { itemId: 'b', offsetMs: 0 });
    assert.deepEqual(tracker.itemAt(500), { itemId: 'b', offsetMs: 200 });
    assert.deepEqual(tracker.itemAt(9_999), { itemId: 'b', offsetMs: 200 });
  });

  test('zero-length sends change nothing', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 100);
    tracker.sent('b', 0);
    tracker.sent('a', 100);
    assert.deepEqual([tracker.segmentCount, tracker.sentMs], [1, 200]);
  });

  for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
    test(`a size or position of ${bad} is refused with VW_ERR_INVALID_SIZE`, () => {
      const tracker = new PlayoutTracker();
      throwsWithCode(() => tracker.sent('a', bad), 'VW_ERR_INVALID_SIZE');
      throwsWithCode(() => tracker.confirm(bad, 0), 'VW_ERR_INVALID_SIZE');
      throwsWithCode(() => tracker.playedOfItem('a', bad), 'VW_ERR_INVALID_SIZE');
      assert.equal(tracker.sentMs, 0);
    });
  }

  test('reset() forgets everything (new epoch)', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 300);
    tracker.confirm(100, 0);
    tracker.reset();
    assert.deepEqual([tracker.sentMs, tracker.playedMs, tracker.segmentCount, tracker.estimatePlayed(500)], [0, 0, 0, 0]);
    assert.equal(tracker.itemAt(0), undefined);
  });
});

describe('PlayoutTracker confirmations and estimates', () => {
  test('a confirmation beyond what was sent is clamped to sentMs', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 300);
    tracker.confirm(900, 0);
    assert.equal(tracker.playedMs, 300);
  });

  test('a confirmation that goes backwards is ignored', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000);
    tracker.confirm(600, 1000);
    tracker.confirm(200, 1100);
    assert.equal(tracker.playedMs, 600);
    assert.equal(tracker.estimatePlayed(1100), 700);
  });

  test('the estimate is the last confirmation plus the real time elapsed since it', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 2000);
    tracker.confirm(500, 10_000);
    assert.equal(tracker.estimatePlayed(10_300), 800);
  });

  test('the estimate stops at sentMs when playback has caught up (underrun)', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000);
    tracker.confirm(800, 0);
    assert.equal(tracker.estimatePlayed(60_000), 1000);
  });

  test('the estimate is never below the confirmed position, even for a clock that goes backwards', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000);
    tracker.confirm(400, 5000);
    assert.equal(tracker.estimatePlayed(4000), 400);
  });

  test('without any confirmation the estimate is 0', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000);
    assert.equal(tracker.estimatePlayed(1e9), 0);
  });

  test('a send with a time after an underrun restarts the estimate from then, not from the old confirmation', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000, 0);
    tracker.confirm(1000, 1000);
    // Silence for four seconds, then more audio: playback resumes when it arrives.
    tracker.sent('b', 500, 5000);
    assert.equal(tracker.estimatePlayed(5100), 1100);
    assert.deepEqual(tracker.itemAt(tracker.estimatePlayed(5100)), { itemId: 'b', offsetMs: 100 });
  });

  test('a send with a time while audio is still buffered leaves the estimate alone', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 1000, 0);
    tracker.confirm(200, 100);
    tracker.sent('a', 500, 300);
    assert.equal(tracker.estimatePlayed(400), 500);
  });
});

describe('PlayoutTracker memory', () => {
  test('memory stays bounded by maxItems over 10 000 items', () => {
    const tracker = new PlayoutTracker({ maxItems: 32 });
    for (let i = 0; i < 10_000; i++) {
      tracker.sent(`item-${i}`, 20);
      tracker.sent(`item-${i}`, 20);
      tracker.confirm(tracker.sentMs - 10, i);
      assert.ok(tracker.segmentCount <= 32, `segments ${tracker.segmentCount} > 32`);
    }
    assert.equal(tracker.sentMs, 400_000);
    assert.deepEqual(tracker.itemAt(tracker.playedMs), { itemId: 'item-9999', offsetMs: 30 });
    assert.equal(tracker.itemAt(0), undefined, 'the start of the call has been forgotten');
  });

  test('an invalid maxItems is refused with VW_ERR_INVALID_SIZE', () => {
    throwsWithCode(() => new PlayoutTracker({ maxItems: 0 }), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new PlayoutTracker({ maxItems: 1.5 }), 'VW_ERR_INVALID_SIZE');
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────────

const sends = fc.array(fc.record({ item: fc.constantFrom('a', 'b', 'c', 'd'), ms: fc.integer({ min: 0, max: 500 }) }), {
  maxLength: 40,
});

describe('PlayoutTracker properties', () => {
  test('playedOfItem summed over every item equals min(played, sent)', () => {
    fc.assert(
      fc.property(sends, fc.integer({ min: 0, max: 25_000 }), (list, position) => {
        const tracker = new PlayoutTracker({ maxItems: 64 });
        for (const { item, ms } of list) tracker.sent(item, ms);
        const total = ['a', 'b', 'c', 'd'].reduce((sum, item) => sum + tracker.playedOfItem(item, position), 0);
        assert.equal(total, Math.min(position, tracker.sentMs));
      }),
      { numRuns: 300 },
    );
  });

  test('itemAt agrees with playedOfItem and names an item that was sent around that position', () => {
    fc.assert(
      fc.property(sends, fc.integer({ min: 0, max: 25_000 }), (list, position) => {
        const tracker = new PlayoutTracker({ maxItems: 64 });
        for (const { item, ms } of list) tracker.sent(item, ms);
        const at = tracker.itemAt(position);
        if (tracker.sentMs === 0) return assert.equal(at, undefined);
        assert.ok(at, 'an item is playing');
        assert.equal(at.offsetMs, tracker.playedOfItem(at.itemId, Math.min(position, tracker.sentMs)));
      }),
      { numRuns: 300 },
    );
  });

  test('the estimate always lies between the confirmed position and sentMs', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), ms: fc.integer({ min: 0, max: 400 }), at: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant('confirm' as const), ms: fc.integer({ min: 0, max: 20_000 }), at: fc.integer({ min: 0, max: 20_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 50 }), fc.integer({ min: -1000, max: 40_000 }), (steps, now) => {
        const tracker = new PlayoutTracker();
        for (const s of steps) {
          if (s.kind === 'send') tracker.sent('x', s.ms, s.at);
          else tracker.confirm(s.ms, s.at);
          assert.ok(tracker.playedMs <= tracker.sentMs, 'played ≤ sent');
        }
        const estimate = tracker.estimatePlayed(now);
        assert.ok(estimate >= tracker.playedMs && estimate <= tracker.sentMs, `estimate ${estimate} outside ${tracker.playedMs}..${tracker.sentMs}`);
      }),
      { numRuns: 300 },
    );
  });
});
