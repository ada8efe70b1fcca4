/** The sentence queue: bounded in items, writers wait while it is full, abort drops, close drains. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import { ItemQueue } from '../../../src/models/cascade/item-queue.js';

describe('ItemQueue', () => {
  test('a write waits while the queue is full and proceeds when a reader makes room', async () => {
    const queue = new ItemQueue<string>(2);
    await queue.write('a');
    await queue.write('b');
    let third = false;
    const pending = queue.write('c').then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false);
    assert.equal(queue.desiredSize, 0);
    assert.equal(await queue.read(), 'a');
    await pending;
    assert.equal(third, true);
    assert.deepEqual([await queue.read(), await queue.read()], ['b', 'c']);
  });

  test('abort drops everything and rejects waiting writers and readers with VW_ERR_ABORTED', async () => {
    const queue = new ItemQueue<number>(1);
    await queue.write(1);
    const writer = queue.write(2);
    assert.equal(queue.abort('barge-in'), 1);
    await assert.rejects(writer, (err) => isVoicewireError(err, 'VW_ERR_ABORTED'));
    const reader = queue.read();
    queue.abort('again');
    await assert.rejects(reader, (err) => isVoicewireError(err, 'VW_ERR_ABORTED'));
    assert.equal(queue.length, 0);
  });

  test('close lets readers drain, then read() resolves undefined; later writes reject VW_ERR_CLOSED', async () => {
    const queue = new ItemQueue<number>(3);
    await queue.write(1);
    queue.close();
    assert.equal(await queue.read(), 1);
    assert.equal(await queue.read(), undefined);
    await assert.rejects(queue.write(2), (err) => isVoicewireError(err, 'VW_ERR_CLOSED'));
  });

  test('waits end with the signal or the deadline', async () => {
    const queue = new ItemQueue<number>(1);
    const controller = new AbortController();
    const read = queue.read({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await assert.rejects(read, /stop/);
    await assert.rejects(queue.read({ timeoutMs: 5 }), (err) => isVoicewireError(err, 'VW_ERR_DEADLINE'));
  });

  test('a wait ended by a signal rejects with the signal\'s reason itself, and leaves no listener behind', async () => {
    const queue = new ItemQueue<number>(1);
    const controller = new AbortController();
    const reason = new Error('barge-in');
    const read = queue.read({ signal: controller.signal, timeoutMs: 60_000 });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort(reason);
    await assert.rejects(read, (err) => err === reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await queue.write(1);
    await assert.rejects(queue.write(2, { signal: controller.signal }), (err) => err === reason);
    assert.equal(queue.length, 1);
  });

  test('an already-aborted signal does not stop a write that has room or a read that has an item', async () => {
    const queue = new ItemQueue<number>(1);
    const signal = AbortSignal.abort(new Error('late'));
    await queue.write(7, { signal });
    assert.equal(await queue.read({ signal }), 7);
    await assert.rejects(queue.read({ signal }), /late/);
    queue.close();
    assert.equal(await queue.read({ signal }), undefined);
    await assert.rejects(queue.write(8, { signal }), (err) => isVoicewireError(err, 'VW_ERR_CLOSED'));
  });

  test('a queue abort keeps its VW_ERR_ABORTED even when the waiter\'s signal aborts afterwards', async () => {
    const queue = new ItemQueue<number>(1);
    const controller = new AbortController();
    const read = queue.read({ signal: controller.signal });
    queue.abort('barge-in');
    controller.abort(new Error('later'));
    await assert.rejects(read, (err) => isVoicewireError(err, 'VW_ERR_ABORTED') && /barge-in/.test(err.message));
  });

  test('the queue stays usable after abort, and maxLength remembers the deepest it has been', async () => {
    const queue = new ItemQueue<string>(3);
    await queue.write('a');
    await queue.write('b');
    assert.equal(queue.abort('barge-in'), 2);
    await queue.write('c');
    assert.deepEqual([queue.length, queue.desiredSize, queue.maxLength, queue.closed], [1, 2, 2, false]);
    assert.equal(await queue.read(), 'c');
  });

  for (const bound of [0, 1.5, Number.NaN]) {
    test(`a bound of ${bound} is a RangeError`, () => {
      assert.throws(() => new ItemQueue(bound), RangeError);
    });
  }

  test('never holds more than its bound and loses nothing, under random producer/consumer interleavings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), async (bound, schedule) => {
        const queue = new ItemQueue<number>(bound);
        const produced = schedule.filter(Boolean).length;
        const got: number[] = [];
        let maxSeen = 0;
        const producer = (async () => {
          for (let i = 0; i < produced; i++) {
            await queue.write(i);
            maxSeen = Math.max(maxSeen, queue.length);
          }
          queue.close();
        })();
        for (const step of schedule) if (!step) await new Promise((r) => setImmediate(r));
        for (;;) {
          const item = await queue.read();
          if (item === undefined) break;
          got.push(item);
        }
        await producer;
        assert.ok(maxSeen <= bound && queue.maxLength <= bound);
        assert.deepEqual(got, [...Array(produced).keys()]);
      }),
      { numRuns: 50 },
    );
  });
});
