import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { vwError } from '../../src/errors.js';
import { Waiter, WaiterList } from '../../src/flow/waiters.js';

describe('WaiterList', () => {
  test('keeps arrival order under any sequence of joins, leaves and failAll', async () => {
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: 'join' as const }) },
      { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'leave' as const, pick })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'failAll' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const list = new WaiterList();
        const model: Waiter[] = [];
        const failed: Waiter[] = [];
        for (const o of ops) {
          if (o.kind === 'join') {
            model.push(new Waiter(list, 'test', undefined));
          } else if (o.kind === 'leave') {
            const [gone] = model.length === 0 ? [] : model.splice(o.pick % model.length, 1);
            gone?.leave();
          } else {
            list.failAll(vwError('VW_ERR_ABORTED', 'test'));
            failed.push(...model.splice(0));
          }
          assert.equal(list.size, model.length);
          model.forEach((waiter, i) => assert.equal(list.isFirst(waiter), i === 0));
        }
        // A failed waiter's park rejects at once; a member's parks until woken.
        for (const waiter of failed) await assert.rejects(waiter.park(), { code: 'VW_ERR_ABORTED' });
      }),
      { numRuns: 300 },
    );
  });

  test('when the first member leaves, the next one is woken to re-check', async () => {
    const list = new WaiterList();
    const first = new Waiter(list, 'test', undefined);
    const second = new Waiter(list, 'test', undefined);
    const third = new Waiter(list, 'test', undefined);
    const secondParked = second.park();
    first.leave();
    await secondParked;
    assert.equal(list.isFirst(second), true);
    // A member that is not first leaving wakes nobody: the first keeps its place.
    const secondAgain = second.park();
    let woken = false;
    void secondAgain.then(() => (woken = true));
    third.leave();
    await Promise.resolve();
    assert.equal(woken, false);
    list.wakeAll();
    await secondAgain;
    assert.equal(list.size, 1);
  });

  test('failAll rejects every parked member in arrival order and empties the list', async () => {
    const list = new WaiterList();
    const waiters = [0, 1, 2].map(() => new Waiter(list, 'test', undefined));
    const order: number[] = [];
    const parked = waiters.map((waiter, i) => waiter.park().catch(() => order.push(i)));
    list.failAll(vwError('VW_ERR_ABORTED', 'closed'));
    await Promise.all(parked);
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(list.size, 0);
  });

  test('a wait with a signal leaves the list when the signal aborts', async () => {
    const list = new WaiterList();
    const controller = new AbortController();
    const waiter = new Waiter(list, 'test', { signal: controller.signal });
    const parked = waiter.park();
    controller.abort(new Error('stop'));
    await assert.rejects(parked, { code: 'VW_ERR_ABORTED' });
    assert.equal(list.size, 0);
  });
});
