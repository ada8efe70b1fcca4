import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallRegistry } from '../../src/server/call-registry.js';
import type { VoicewireError } from '../../src/errors.js';
import { FakeCall } from './helpers.js';

describe('CallRegistry', () => {
  test('sockets wait as pending up to their own cap; a live slot is taken only at admit', () => {
    const registry = new CallRegistry<FakeCall>(1, 2);
    const [a, b, c] = [new FakeCall(), new FakeCall(), new FakeCall()];
    assert.equal(registry.addPending(a), true);
    assert.equal(registry.addPending(b), true);
    assert.equal(registry.pendingFull, true);
    assert.equal(registry.addPending(c), false);
    assert.deepEqual([registry.size, registry.pendingSize], [0, 2]);
    assert.equal(registry.admit(a), true);
    assert.deepEqual([registry.size, registry.pendingSize], [1, 1]);
    assert.equal(registry.admit(b), false, 'MAX_CALLS reached');
    assert.deepEqual([registry.size, registry.pendingSize], [1, 1], 'a refused call stays pending until it ends');
  });

  test('calls leave when they end, whichever set they are in, and whenEmpty resolves then', async () => {
    const registry = new CallRegistry<FakeCall>(5, 5);
    const [a, b] = [new FakeCall(), new FakeCall()];
    registry.addPending(a);
    registry.addPending(b);
    registry.admit(a);
    let empty = false;
    const waiting = registry.whenEmpty().then(() => (empty = true));
    a.hangUp();
    await a.ended;
    await Promise.resolve();
    assert.equal(empty, false);
    assert.deepEqual([registry.size, registry.pendingSize], [0, 1]);
    b.hangUp();
    await waiting;
    assert.deepEqual([registry.size, registry.pendingSize], [0, 0]);
  });

  test('closeAll ends live and pending calls with the error and resolves when they are gone', async () => {
    const registry = new CallRegistry<FakeCall>(5, 5);
    const calls = [new FakeCall(), new FakeCall(), new FakeCall()];
    for (const call of calls) registry.addPending(call);
    registry.admit(calls[0]!);
    const error = { code: 'VW_ERR_SHUTDOWN', closeCode: 1001 } as VoicewireError;
    await registry.closeAll(error);
    assert.deepEqual(calls.map((c) => c.closedWith), [error, error, error]);
    assert.deepEqual([registry.size, registry.pendingSize], [0, 0]);
  });
});
