/** resolveSetup: the webhook or the library function, one deadline, defaults on every failure. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveSetup } from '../../src/agent/setup.js';
import type { CallSetupRequest } from '../../src/agent/call-setup.js';
import { FakeHttpEndpoint, jsonOf, type Reply } from '../fakes/http-endpoint.js';

const REQUEST: CallSetupRequest = { callId: 'CA1', transport: 'twilio', from: '+15550001111', to: '+15550002222', parameters: { lang: 'en' } };
const replies: Record<string, Reply> = {
  '/ok': { status: 200, json: { instructions: 'Be the Acme desk.', voice: 'cedar' } },
  '/reject': { status: 200, json: { reject: true } },
  '/500': { status: 500, text: 'oops' },
  '/204': { status: 204 },
  '/hang': 'hang',
  '/invalid': { status: 200, json: { voice: 42 } },
  '/not-json': { status: 200, text: '<html>' },
  '/huge': { status: 200, json: { instructions: 'x'.repeat(70 * 1024) } },
};

let server: FakeHttpEndpoint;
before(async () => {
  server = await FakeHttpEndpoint.start((request) => replies[request.path] ?? { status: 404 });
});
after(() => server.close());

const webhook = (path: string) => ({ kind: 'webhook' as const, url: server.url(path) });

describe('resolveSetup: webhook', () => {
  test('posts the call and applies a valid answer', async () => {
    const resolved = await resolveSetup(webhook('/ok'), REQUEST, { timeoutMs: 1000 });
    assert.deepEqual([resolved.outcome, resolved.setup], ['applied', { instructions: 'Be the Acme desk.', voice: 'cedar' }]);
    assert.deepEqual(jsonOf(server.to('/ok').at(-1)!), REQUEST);
  });

  test('reject comes through as an applied setup', async () => {
    assert.deepEqual((await resolveSetup(webhook('/reject'), REQUEST, { timeoutMs: 1000 })).setup, { reject: true });
  });

  const failures: Array<[string, string]> = [
    ['/500', 'status'], ['/204', 'status'], ['/hang', 'timeout'], ['/invalid', 'invalid'], ['/not-json', 'invalid-json'], ['/huge', 'too-large'],
  ];
  for (const [path, outcome] of failures) {
    test(`${path} → the defaults, outcome ${outcome}`, async () => {
      const resolved = await resolveSetup(webhook(path), REQUEST, { timeoutMs: 300 });
      assert.deepEqual([resolved.outcome, resolved.setup], [outcome, {}]);
      if (outcome === 'invalid') assert.equal(resolved.detail, 'voice');
    });
  }
});

describe('resolveSetup: library function', () => {
  test('its answer is validated like the webhook\'s; undefined means the defaults', async () => {
    const ok = await resolveSetup({ kind: 'function', setupCall: (req) => ({ greeting: `Hi ${req.from}` }) }, REQUEST, { timeoutMs: 300 });
    assert.deepEqual([ok.outcome, ok.setup], ['applied', { greeting: 'Hi +15550001111' }]);
    const none = await resolveSetup({ kind: 'function', setupCall: () => undefined }, REQUEST, { timeoutMs: 300 });
    assert.deepEqual([none.outcome, none.setup], ['applied', {}]);
    const bad = await resolveSetup({ kind: 'function', setupCall: () => ({ creditWindowMs: 1 }) }, REQUEST, { timeoutMs: 300 });
    assert.deepEqual([bad.outcome, bad.detail], ['invalid', 'creditWindowMs']);
  });

  test('a throwing hook and one that ignores its signal both end in the defaults, the latter at the deadline', async () => {
    const threw = await resolveSetup({ kind: 'function', setupCall: () => Promise.reject(new Error('db down')) }, REQUEST, { timeoutMs: 300 });
    assert.deepEqual([threw.outcome, threw.detail], ['threw', 'db down']);
    const hung = await resolveSetup({ kind: 'function', setupCall: () => new Promise(() => undefined) }, REQUEST, { timeoutMs: 200 });
    assert.equal(hung.outcome, 'timeout');
    assert.ok(hung.durationMs >= 190 && hung.durationMs < 600, `${hung.durationMs} ms`);
  });
});
