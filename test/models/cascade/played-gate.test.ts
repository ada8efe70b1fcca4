/** The played-ACK gate: waits resolve in order of played sentences; a missing ACK ends in VW_ERR_DEADLINE. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { isVoicewireError } from '../../../src/errors.js';
import { PlayedGate } from '../../../src/models/cascade/played-gate.js';

describe('PlayedGate', () => {
  test('resolves a wait once that sentence (or a later one) has played', async () => {
    const gate = new PlayedGate();
    let resolved = false;
    const wait = gate.waitPlayed(1, { timeoutMs: 1000 }).then(() => (resolved = true));
    gate.markPlayed(0);
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false);
    gate.markPlayed(2);
    await wait;
    assert.equal(gate.playedThrough, 2);
    gate.markPlayed(1); // a late, older ACK does not move it back
    assert.equal(gate.playedThrough, 2);
    await gate.waitPlayed(-1, { timeoutMs: 1 });
  });

  test('a played-ACK that never comes rejects with VW_ERR_DEADLINE', async () => {
    await assert.rejects(new PlayedGate().waitPlayed(0, { timeoutMs: 10 }), (err) => isVoicewireError(err, 'VW_ERR_DEADLINE'));
  });

  test('an aborted signal ends the wait with its reason', async () => {
    const controller = new AbortController();
    const wait = new PlayedGate().waitPlayed(3, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(new Error('barge-in'));
    await assert.rejects(wait, /barge-in/);
  });

  test('an aborted signal rejects with the very reason it was aborted with, and leaves no listener behind', async () => {
    const controller = new AbortController();
    const reason = new Error('barge-in');
    const wait = new PlayedGate().waitPlayed(3, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(wait, (err) => err === reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('a sentence already played resolves even when the signal has aborted; one not played rejects', async () => {
    const gate = new PlayedGate();
    gate.markPlayed(1);
    const signal = AbortSignal.abort(new Error('gone'));
    await gate.waitPlayed(1, { timeoutMs: 10, signal });
    await assert.rejects(gate.waitPlayed(2, { timeoutMs: 10_000, signal }), /gone/);
  });

  test('several waits each resolve when their own sentence has played', async () => {
    const gate = new PlayedGate();
    const controller = new AbortController();
    const order: number[] = [];
    const waits = [2, 0, 1].map((id) => gate.waitPlayed(id, { timeoutMs: 10_000, signal: controller.signal }).then(() => order.push(id)));
    gate.markPlayed(0);
    await waits[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0]);
    gate.markPlayed(2);
    await Promise.all(waits);
    assert.deepEqual([...order].sort(), [0, 1, 2]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  for (const timeoutMs of [Number.NaN, -5]) {
    test(`a deadline of ${timeoutMs} ms has already passed: VW_ERR_DEADLINE`, async () => {
      await assert.rejects(new PlayedGate().waitPlayed(0, { timeoutMs }), (err) => isVoicewireError(err, 'VW_ERR_DEADLINE'));
    });
  }
});
