// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ResponseTracker } from '../../../src/models/openai-realtime/responses.js';

describe('ResponseTracker', () => {
  test('interrupt cancels only an active response, once', () => {
    const t = new ResponseTracker();
    assert.equal(t.interrupt(), undefined, 'idle: nothing to cancel');
    t.onCommitted(true);
    assert.equal(t.state, 'creating');
    assert.equal(t.interrupt(), undefined, 'creating: a cancel before response.created is a no-op on the API');
    t.onCreated('r1');
    assert.equal(t.interrupt(), 'r1');
    assert.equal(t.state, 'cancelling');
    assert.equal(t.interrupt(), undefined, 'no second cancel while cancelling');
    t.onDone('r1');
    assert.equal(t.state, 'idle');
    assert.equal(t.interrupt(), undefined, 'done: never cancel a finished response');
  });

  test('deltas of an interrupted response are dropped, even after a new one starts', () => {
    const t = new ResponseTracker();
    t.onCreated('r1');
    assert.deepEqual(t.delta('r1', 'i1', 0), { deliver: true, sentenceId: 0, newSentence: true });
    t.interrupt();
    assert.deepEqual(t.delta('r1', 'i1', 0), { deliver: false, why: 'interrupted' });
    t.onDone('r1');
    t.onCreated('r2');
    assert.deepEqual(t.delta('r1', 'i1', 0), { deliver: false, why: 'interrupted' });
    assert.deepEqual(t.delta('r2', 'i2', 0), { deliver: true, sentenceId: 0, newSentence: true });
  });

  test('deltas of no active response are dropped as not-active', () => {
    const t = new ResponseTracker();
    assert.deepEqual(t.delta('r9', 'i', 0), { deliver: false, why: 'not-active' });
    t.onCreated('r1');
    t.onDone('r1');
    assert.deepEqual(t.delta('r1', 'i', 0), { deliver: false, why: 'not-active' });
  });

  test('each new (item, content part) is the next sentence; its end is reported once', () => {
    const t = new ResponseTracker();
    t.onCreated('r1');
    assert.deepEqual(t.delta('r1', 'a', 0), { deliver: true, sentenceId: 0, newSentence: true });
    assert.deepEqual(t.delta('r1', 'a', 0), { deliver: true, sentenceId: 0, newSentence: false });
    assert.equal(t.endOfAudio('r1', 'a', 0), 0);
    assert.equal(t.endOfAudio('r1', 'a'), undefined, 'output_item.done after output_audio.done: already ended');
    const next = t.delta('r1', 'b', 0);
    assert.deepEqual(next, { deliver: true, sentenceId: 1, newSentence: true });
    assert.deepEqual(t.delta('r1', 'b', 1), { deliver: true, sentenceId: 2, newSentence: true });
    assert.equal(t.onDone('r1'), 2, 'response.done ends the still-open sentence');
  });

  test('a new response restarts sentence numbering at 0', () => {
    const t = new ResponseTracker();
    t.onCreated('r1');
    t.delta('r1', 'a', 0);
    t.delta('r1', 'b', 0);
    t.onDone('r1');
    t.onCreated('r2');
    assert.deepEqual(t.delta('r2', 'c', 0), { deliver: true, sentenceId: 0, newSentence: true });
  });

  test('an interrupted response reports no sentence end', () => {
    const t = new ResponseTracker();
    t.onCreated('r1');
    t.delta('r1', 'a', 0);
    t.interrupt();
    assert.equal(t.endOfAudio('r1', 'a', 0), undefined);
    assert.equal(t.onDone('r1'), undefined);
  });

  test('reset forgets the active response and returns its id', () => {
    const t = new ResponseTracker();
    t.onCreated('r1');
    assert.equal(t.reset(), 'r1');
    assert.equal(t.state, 'idle');
    assert.equal(t.activeId, undefined);
  });

  type Op =
    | { op: 'committed' }
    | { op: 'created'; id: number }
    | { op: 'done'; id: number }
    | { op: 'interrupt' }
    | { op: 'delta'; id: number; item: number }
    | { op: 'reset' };

  const ops = fc.array(
    fc.oneof(
      fc.constant<Op>({ op: 'committed' }),
      fc.record({ op: fc.constant('created' as const), id: fc.nat(5) }),
      fc.record({ op: fc.constant('done' as const), id: fc.nat(5) }),
      fc.constant<Op>({ op: 'interrupt' }),
      fc.record({ op: fc.constant('delta' as const), id: fc.nat(5), item: fc.nat(3) }),
      fc.constant<Op>({ op: 'reset' }),
    ),
    { maxLength: 60 },
  );

  test('property: a cancel is only ever returned for the active response, at most once per response', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        const t = new ResponseTracker();
        const cancelled = new Set<string>();
        const done = new Set<string>();
        for (const step of sequence) {
          switch (step.op) {
            case 'committed':
              t.onCommitted(true);
              break;
            case 'created':
              // The API never reuses a response id.
              if (!done.has(`r${step.id}`) && !cancelled.has(`r${step.id}`)) t.onCreated(`r${step.id}`);
              break;
            case 'done':
              if (t.activeId === `r${step.id}`) done.add(`r${step.id}`);
              t.onDone(`r${step.id}`);
              break;
            case 'interrupt': {
              const before = t.state;
              const activeBefore = t.activeId;
              const id = t.interrupt();
              if (id !== undefined) {
                assert.equal(before, 'active');
                assert.equal(id, activeBefore);
                assert.ok(!cancelled.has(id), `second cancel for ${id}`);
                assert.ok(!done.has(id), `cancel after done for ${id}`);
                cancelled.add(id);
              } else {
                assert.notEqual(before, 'active');
              }
              break;
            }
            case 'delta': {
              const verdict = t.delta(`r${step.id}`, `i${step.item}`, 0);
              if (verdict.deliver) {
                assert.equal(t.activeId, `r${step.id}`);
                assert.ok(!cancelled.has(`r${step.id}`), 'delivered a delta of a cancelled response');
              }
              break;
            }
            case 'reset':
              t.reset();
              break;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
