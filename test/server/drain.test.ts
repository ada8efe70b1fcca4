import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallRegistry } from '../../src/server/call-registry.js';
import { drainCalls } from '../../src/server/drain.js';
import { silentLogger } from '../../src/server/logger.js';
import { FakeCall } from './helpers.js';

function registryWith(live: number, pending: number): { registry: CallRegistry<FakeCall>; calls: FakeCall[] } {
  const registry = new CallRegistry<FakeCall>(100, 100);
  const calls: FakeCall[] = [];
  for (let i = 0; i < live + pending; i++) {
    const call = new FakeCall();
    registry.addPending(call);
    if (i < live) registry.admit(call);
    calls.push(call);
  }
  return { registry, calls };
}

describe('drainCalls', () => {
  test('with no calls it finishes at once', async () => {
    const { registry } = registryWith(0, 0);
    const report = await drainCalls(registry, { timeoutMs: 60_000, stop: new AbortController().signal, logger: silentLogger() });
    assert.equal(report.outcome, 'calls-finished');
    assert.equal(report.callsAtStart, 0);
    assert.ok(report.durationMs < 1000);
  });

  test('live calls go on until they end by themselves; nobody is cut', async () => {
    const { registry, calls } = registryWith(2, 1);
    const draining = drainCalls(registry, { timeoutMs: 60_000, stop: new AbortController().signal, logger: silentLogger() });
    calls[0]!.hangUp();
    calls[2]!.hangUp(); // the pending one times out or starts and ends
    await calls[2]!.ended;
    calls[1]!.hangUp();
    const report = await draining;
    assert.deepEqual({ ...report, durationMs: 0 }, { callsAtStart: 3, endedByUs: 0, outcome: 'calls-finished', durationMs: 0 });
    assert.deepEqual(calls.map((c) => c.closedWith), [undefined, undefined, undefined]);
  });

  test('at the deadline the calls left end with VW_ERR_SHUTDOWN (1001); the others ended by themselves', async () => {
    const { registry, calls } = registryWith(3, 0);
    calls[0]!.hangUp();
    const report = await drainCalls(registry, { timeoutMs: 50, stop: new AbortController().signal, logger: silentLogger() });
    assert.equal(report.outcome, 'deadline');
    assert.equal(report.endedByUs, 2);
    assert.ok(report.durationMs >= 45, `ended after ${report.durationMs} ms`);
    assert.equal(calls[0]!.closedWith, undefined);
    for (const call of calls.slice(1)) {
      assert.equal(call.closedWith?.code, 'VW_ERR_SHUTDOWN');
      assert.equal(call.closedWith?.closeCode, 1001);
      assert.match(call.closedWith.message, /DRAIN_TIMEOUT_MS of 50 ms/);
    }
    assert.deepEqual([registry.size, registry.pendingSize], [0, 0]);
  });

  test('stop (a second signal) ends every call at once, long before the deadline', async () => {
    const { registry, calls } = registryWith(2, 2);
    const stop = new AbortController();
    const draining = drainCalls(registry, { timeoutMs: 600_000, stop: stop.signal, logger: silentLogger() });
    stop.abort();
    const report = await draining;
    assert.equal(report.outcome, 'stopped');
    assert.equal(report.endedByUs, 4);
    assert.ok(report.durationMs < 1000);
    for (const call of calls) assert.equal(call.closedWith?.closeCode, 1001);
  });
});
