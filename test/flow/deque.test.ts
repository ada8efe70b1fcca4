import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Deque } from '../../src/flow/deque.js';

describe('Deque', () => {
  test('behaves like an array used as a FIFO under any sequence of pushes, shifts and clears', () => {
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.integer().map((value) => ({ kind: 'push' as const, value })) },
      { weight: 2, arbitrary: fc.constant({ kind: 'shift' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const deque = new Deque<number>();
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            deque.push(o.value);
            model.push(o.value);
          } else if (o.kind === 'shift') {
            assert.equal(deque.shift(), model.shift());
          } else {
            deque.clear();
            model.length = 0;
          }
          assert.equal(deque.length, model.length);
          assert.equal(deque.peek(), model[0]);
          assert.equal(deque.peekLast(), model.at(-1));
        }
        assert.deepEqual([...deque], model);
        model.forEach((value, i) => assert.equal(deque.at(i), value));
        assert.equal(deque.at(model.length), undefined);
        assert.equal(deque.at(-1), undefined);
      }),
      { numRuns: 300 },
    );
  });
});
