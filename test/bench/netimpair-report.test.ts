import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staleBreakdown } from '../../bench/netimpair/report.js';

const caller = { speechStartsAtWall: 10_000, clearAtWall: 10_260 };

test("stale breakdown of a barge-in on the model's speech start: uplink, the model's VAD, its event, the clear", () => {
  assert.deepEqual(staleBreakdown(caller, { loudAt: 10_090, vadAt: 10_180, speechStartedAt: 10_181.5, clearWrittenAt: 10_182 }), {
    trigger: 'model', toGatewayMs: 90, vadMs: 90, vadToGatewayMs: 1.5, clearWriteMs: 0.5, clearToCallerMs: 78,
  });
});

test("stale breakdown of a local barge-in: the gateway's VAD is first loud frame → clear written; no model spans", () => {
  assert.deepEqual(staleBreakdown(caller, { loudAt: 10_090, vadAt: null, speechStartedAt: null, clearWrittenAt: 10_110.25 }), {
    trigger: 'local', toGatewayMs: 90, vadMs: 20.3, vadToGatewayMs: null, clearWriteMs: null, clearToCallerMs: 149.8,
  });
});
