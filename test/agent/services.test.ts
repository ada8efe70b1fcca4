/** The per-call plan: which tools are offered, and the settings and window a setup gives the call. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { creditWindow, modelSettings, planCall, type AgentServices } from '../../src/agent/services.js';
import type { CallSetupRequest } from '../../src/agent/call-setup.js';

const REQUEST: CallSetupRequest = { callId: 'CA1', transport: 'twilio', from: undefined, to: undefined, parameters: {} };
const FILE_TOOL = { name: 'from_file', description: 'd', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/x', timeoutMs: 1000 };

function services(setupCall: () => unknown): AgentServices {
  return { setup: { kind: 'function', setupCall }, setupTimeoutMs: 500, tools: [FILE_TOOL], sinks: [] };
}

describe('planCall', () => {
  test('no setup answer: the default tools, no built-ins', async () => {
    const plan = await planCall(services(() => undefined), REQUEST, { signal: new AbortController().signal, canTransfer: true });
    assert.deepEqual(plan.definitions.map((d) => d.name), ['from_file']);
    assert.deepEqual(modelSettings(plan), { tools: plan.definitions });
  });

  test('a setup\'s tools replace the defaults; built-ins follow; transfer only where the transport can', async () => {
    const answer = { instructions: 'x', voice: 'cedar', endCall: true, transfer: { to: '+15551230000' }, tools: [{ name: 'mine', url: 'http://127.0.0.1:9/m' }] };
    const twilio = await planCall(services(() => answer), REQUEST, { signal: new AbortController().signal, canTransfer: true });
    assert.deepEqual(twilio.definitions.map((d) => d.name), ['mine', 'end_call', 'transfer_call']);
    const cannot = await planCall(services(() => answer), REQUEST, { signal: new AbortController().signal, canTransfer: false });
    assert.deepEqual(cannot.definitions.map((d) => d.name), ['mine', 'end_call']);
    assert.deepEqual({ ...modelSettings(twilio), tools: undefined }, { instructions: 'x', voice: 'cedar', tools: undefined });
  });
});

describe('creditWindow', () => {
  test('a browser\'s window can only shrink; Twilio takes the setup\'s, else the default', () => {
    assert.equal(creditWindow(500, 800, 800), 500);
    assert.equal(creditWindow(800, 400, 800), 400);
    assert.equal(creditWindow(600, undefined, 800), 600);
    assert.equal(creditWindow(undefined, 1200, 800), 1200);
    assert.equal(creditWindow(undefined, undefined, 800), 800);
  });
});
