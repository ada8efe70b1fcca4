/** The setup answer and tool schemas: exact results for known shapes, never a throw for any JSON. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkSetup, checkTools, isDialTarget } from '../../src/agent/call-setup.js';

const TOOL = { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' }, url: 'https://tools.example/lookup', timeoutMs: 2000 };

describe('checkSetup', () => {
  test('a full answer is accepted field for field', () => {
    const answer = {
      instructions: 'You are the Acme desk.', voice: 'cedar', greeting: 'Hello!', creditWindowMs: 600, localBargeInMs: 40, localBargeInHoldMs: 400,
      tools: [TOOL], endCall: true, transfer: { to: '+15551230000' }, metadata: { plan: 'gold' },
    };
    assert.deepEqual(checkSetup(answer), { ok: true, value: answer });
  });

  test('a hold at either bound is accepted', () => {
    for (const localBargeInHoldMs of [100, 5_000]) assert.deepEqual(checkSetup({ localBargeInHoldMs }), { ok: true, value: { localBargeInHoldMs } });
  });

  test('an empty answer means the defaults; reject is kept', () => {
    assert.deepEqual(checkSetup({}), { ok: true, value: {} });
    assert.deepEqual(checkSetup({ reject: true }), { ok: true, value: { reject: true } });
  });

  test('tool defaults: empty description, an object schema, 5000 ms', () => {
    const checked = checkTools([{ name: 't', url: 'http://127.0.0.1:9/t' }]);
    assert.deepEqual(checked, { ok: true, value: [{ name: 't', description: '', parameters: { type: 'object', properties: {} }, url: 'http://127.0.0.1:9/t', timeoutMs: 5000 }] });
  });

  const refusals: Array<[string, unknown, string]> = [
    ['not an object', [], '(answer)'],
    ['an unknown field (a typo)', { instruction: 'x' }, 'instruction'],
    ['a voice with spaces', { voice: 'my voice' }, 'voice'],
    ['a window out of range', { creditWindowMs: 5000 }, 'creditWindowMs'],
    ['a local barge-in past 500 ms', { localBargeInMs: 501 }, 'localBargeInMs'],
    ['a negative local barge-in', { localBargeInMs: -1 }, 'localBargeInMs'],
    ['a fractional local barge-in', { localBargeInMs: 40.5 }, 'localBargeInMs'],
    ['a hold under 100 ms', { localBargeInHoldMs: 99 }, 'localBargeInHoldMs'],
    ['a hold past 5 s', { localBargeInHoldMs: 5_001 }, 'localBargeInHoldMs'],
    ['a fractional hold', { localBargeInHoldMs: 300.5 }, 'localBargeInHoldMs'],
    ['a hold as a string', { localBargeInHoldMs: '300' }, 'localBargeInHoldMs'],
    ['a tool without url', { tools: [{ name: 'x' }] }, 'tools[0].url'],
    ['a tool named like a built-in', { tools: [{ ...TOOL, name: 'end_call' }] }, 'tools[0].name'],
    ['two tools of one name', { tools: [TOOL, TOOL] }, 'tools[1].name'],
    ['a tool deadline past 30 s', { tools: [{ ...TOOL, timeoutMs: 60_000 }] }, 'tools[0].timeoutMs'],
    ['a ftp tool url', { tools: [{ ...TOOL, url: 'ftp://x/y' }] }, 'tools[0].url'],
    ['a transfer target that is not a number', { transfer: { to: '5551230000<' } }, 'transfer'],
    ['endCall as a string', { endCall: 'yes' }, 'endCall'],
  ];
  for (const [what, answer, path] of refusals) {
    test(`refuses ${what} and names ${path}`, () => {
      assert.deepEqual(checkSetup(answer), { ok: false, path });
    });
  }

  test('property: any JSON value is accepted or refused with a path, never thrown on', () => {
    fc.assert(
      fc.property(fc.json().map((text) => JSON.parse(text) as unknown), (value) => {
        const result = checkSetup(value);
        assert.ok(result.ok || typeof result.path === 'string');
      }),
    );
  });

  test('property: a valid answer with one field replaced by arbitrary JSON is accepted or refused at that field', () => {
    const fields = ['instructions', 'voice', 'greeting', 'creditWindowMs', 'localBargeInMs', 'localBargeInHoldMs', 'endCall', 'transfer', 'metadata', 'reject'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.json().map((t) => JSON.parse(t) as unknown), (field, value) => {
        const result = checkSetup({ instructions: 'x', [field]: value });
        if (!result.ok) assert.equal(result.path, field);
      }),
    );
  });
});

describe('dial targets', () => {
  test('E.164 numbers and SIP URIs pass; anything that could break TwiML does not', () => {
    assert.equal(isDialTarget('+15551230000'), true);
    assert.equal(isDialTarget('sip:desk@pbx.example.com'), true);
    for (const bad of ['15551230000', '+1 555', '+1555</Dial>', 'sip:a"b@x', 'tel:+1555123']) assert.equal(isDialTarget(bad), false, bad);
  });
});
