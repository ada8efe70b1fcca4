import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isErrorOutput, MAX_PENDING_TOOL_CALLS, PendingToolCalls } from '../../../src/models/shared/tool-calls.js';
import { failureOutput } from '../../../src/agent/tool-runner.js';

const TOOLS = [{ name: 'lookup', description: 'd', parameters: { type: 'object' } }];

describe('PendingToolCalls', () => {
  test('a call is answered once: take() gives its name, then nothing', () => {
    const calls = new PendingToolCalls(TOOLS, 'p');
    assert.deepEqual(calls.add('r1', 'c1', 'lookup', '{}'), { responseId: 'r1', callId: 'c1', name: 'lookup', arguments: '{}' });
    assert.equal(calls.take('c1'), 'lookup');
    assert.equal(calls.take('c1'), undefined);
  });

  test('a call without an id gets one; cancelled calls are not answered', () => {
    const calls = new PendingToolCalls(TOOLS, 'p');
    const call = calls.add('r', undefined, 'lookup', '{}');
    assert.equal(call.callId, 'p_call_1');
    calls.add('r', 'c2', 'lookup', '{}');
    assert.equal(calls.cancel(['c2', 'nope']), 1);
    assert.equal(calls.take('c2'), undefined);
    assert.equal(calls.take('p_call_1'), 'lookup');
  });

  test('offers only the session tools', () => {
    assert.equal(new PendingToolCalls(TOOLS, 'p').offers('lookup'), true);
    assert.equal(new PendingToolCalls(TOOLS, 'p').offers('other'), false);
    assert.equal(new PendingToolCalls(undefined, 'p').enabled, false);
  });

  test('property: never more than the bound pending; the oldest are forgotten first', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 * MAX_PENDING_TOOL_CALLS }), (n) => {
      const calls = new PendingToolCalls(TOOLS, 'p');
      for (let i = 0; i < n; i++) calls.add('r', `c${i}`, 'lookup', '{}');
      assert.equal(calls.size, Math.min(n, MAX_PENDING_TOOL_CALLS));
      assert.equal(calls.take(`c${n - 1}`), 'lookup');
      if (n > MAX_PENDING_TOOL_CALLS) assert.equal(calls.take(`c${n - 1 - MAX_PENDING_TOOL_CALLS}`), undefined);
    }));
  });
});

describe('isErrorOutput', () => {
  test('the tool runner failure output is an error; outputs are not', () => {
    assert.equal(isErrorOutput(failureOutput('lookup', 'timeout')), true);
    assert.equal(isErrorOutput('{"status":"shipped"}'), false);
    assert.equal(isErrorOutput('{"error":"x","detail":1}'), false);
    assert.equal(isErrorOutput('plain text'), false);
    assert.equal(isErrorOutput('["error"]'), false);
  });
});
