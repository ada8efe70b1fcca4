import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteRing } from '../../src/flow/byte-ring.js';

const bytes = (length: number, from: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (from + i) % 256);

describe('ByteRing', () => {
  test('pushes return consecutive positions; a view of contiguous bytes is the storage, one across the wrap point a copy', () => {
    const ring = new ByteRing(64, 8);
    assert.equal(ring.storageBytes, 0);
    assert.equal(ring.push(bytes(6, 0)), 0);
    assert.equal(ring.push(bytes(2, 6)), 6);
    assert.equal(ring.storageBytes, 8);
    ring.release(6);
    assert.equal(ring.push(bytes(4, 8)), 8); // at the start: the bytes held now cross the end
    assert.equal(ring.storageBytes, 8);
    const straight = ring.view(6, 2);
    assert.deepEqual([...straight], [6, 7]);
    const across = ring.view(6, 6);
    assert.deepEqual([...across], [6, 7, 8, 9, 10, 11]);
    assert.equal(ring.storageBytes, 8 + 6); // the wrap scratch
    assert.notEqual(straight.buffer, across.buffer);
  });

  test('grows by doubling with the bytes in order, never past maxBytes; a push beyond is a RangeError', () => {
    const ring = new ByteRing(20, 4);
    ring.push(bytes(3, 0));
    ring.release(2);
    ring.push(bytes(3, 3)); // wraps in 4
    ring.push(bytes(10, 6)); // 4 → 8 → 16 held 1+3+10 = 14
    assert.deepEqual([...ring.view(2, 14)], [...bytes(14, 2)]);
    assert.equal(ring.storageBytes, 16 + 0);
    ring.push(bytes(6, 16)); // 20 held: capped at 20, not 32
    assert.equal(ring.storageBytes, 20);
    assert.throws(() => ring.push(bytes(1, 0)), RangeError);
    assert.equal(ring.length, 20);
  });

  test('truncate forgets the newest bytes; clear and releaseStorage give the memory back', () => {
    const ring = new ByteRing(100);
    const at = ring.push(bytes(10, 0));
    const next = ring.push(bytes(5, 10));
    ring.truncate(next);
    assert.equal(ring.length, 10);
    ring.releaseStorage(); // bytes held: kept
    assert.ok(ring.storageBytes > 0);
    ring.release(at + 10);
    ring.releaseStorage();
    assert.equal(ring.storageBytes, 0);
    ring.push(bytes(5, 0));
    ring.clear();
    assert.equal(ring.length, 0);
    assert.equal(ring.storageBytes, 0);
    assert.throws(() => ring.view(15, 1), RangeError); // from before the clear: not held
    ring.release(0); // behind the head: nothing
    ring.truncate(0);
    assert.equal(ring.push(bytes(1, 0)), 15);
  });

  test('property: against an array model, any pushes, releases, truncates and clears keep the bytes, the bound and the positions', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ release: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ truncate: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ clear: fc.constant(true) }),
      fc.record({ idle: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 32 }), fc.array(op, { maxLength: 80 }), (maxBytes, minBytes, ops) => {
        const ring = new ByteRing(maxBytes, minBytes);
        let head = 0;
        let model: number[] = []; // the bytes held, from `head`
        let counter = 0;
        for (const o of ops) {
          if ('push' in o) {
            const chunk = bytes(o.push, counter);
            if (model.length + o.push > maxBytes && o.push > 0) {
              assert.throws(() => ring.push(chunk), RangeError);
              continue;
            }
            assert.equal(ring.push(chunk), head + model.length);
            model = model.concat([...chunk]);
            counter += o.push;
          } else if ('release' in o) {
            const to = head + Math.min(o.release, model.length);
            ring.release(to);
            model = model.slice(to - head);
            head = to;
          } else if ('truncate' in o) {
            const at = head + Math.min(o.truncate, model.length);
            ring.truncate(at);
            model = model.slice(0, at - head);
          } else if ('clear' in o) {
            ring.clear();
            head += model.length;
            model = [];
          } else {
            ring.releaseStorage();
            if (model.length === 0) assert.equal(ring.storageBytes, 0);
          }
          assert.equal(ring.length, model.length);
          if (model.length > 0) {
            const from = Math.floor(model.length / 3);
            assert.deepEqual([...ring.view(head + from, model.length - from)], model.slice(from));
          }
          assert.ok(ring.storageBytes <= 2 * maxBytes, `storage ${ring.storageBytes} > 2 × ${maxBytes}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
