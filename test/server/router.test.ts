import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/server/router.js';

describe('Router route kinds', () => {
  test('every method but GET/HEAD starts calls by default; a route may say otherwise', () => {
    const router = new Router();
    const noop = (): void => undefined;
    router.add('POST', '/twilio/voice', noop);
    router.add('GET', '/healthz', noop);
    router.add('GET', '/carrier/answer', noop, { kind: 'call' });
    router.add('POST', '/internal/ping', noop, { kind: 'service' });
    assert.equal(router.kindOf('POST', '/twilio/voice'), 'call');
    assert.equal(router.kindOf('GET', '/healthz'), 'service');
    assert.equal(router.kindOf('GET', '/carrier/answer'), 'call');
    assert.equal(router.kindOf('POST', '/internal/ping'), 'service');
    assert.equal(router.kindOf('PUT', '/unknown'), 'call', 'unknown non-GET requests are guarded too');
    assert.equal(router.kindOf('HEAD', '/unknown'), 'service');
  });
});
