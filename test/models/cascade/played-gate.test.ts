/** The played-ACK gate: waits resolve in order of played sentences; a missing ACK ends in VW_ERR_DEADLINE. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
});
