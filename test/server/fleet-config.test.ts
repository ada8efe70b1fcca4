import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/server/config.js';
import { cidrMatcher, parseCidr, startupWarnings } from '../../src/server/fleet-config.js';

describe('fleet configuration', () => {
  test('defaults: 5 min drain, 5 s start timeout, 2 h calls, no admin port, signatures optional', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.deepEqual(result.config.fleet, {
      drainTimeoutMs: 300_000,
      startTimeoutMs: 5_000,
      maxPendingStreams: 500,
      maxCallMs: 7_200_000,
      requireSignatures: false,
      trustedProxies: [],
      webhookRate: { perSecond: 20, burst: 40 },
      upgradeRate: { perSecond: 20, burst: 40 },
      rateLimitAddresses: 10_000,
      adminPort: undefined,
      metricsToken: undefined,
    });
  });

  test('every variable is read', () => {
    const result = loadConfig({
      DRAIN_TIMEOUT_MS: '1000', START_TIMEOUT_MS: '2000', MAX_PENDING_STREAMS: '7', MAX_CALL_MS: '60000',
      REQUIRE_SIGNATURES: 'true', TWILIO_AUTH_TOKEN: 'tok', TRUSTED_PROXIES: '10.0.0.0/8, ::1',
      WEBHOOK_RATE_PER_SEC: '5', WEBHOOK_RATE_BURST: '6', UPGRADE_RATE_PER_SEC: '0', UPGRADE_RATE_BURST: '9',
      RATE_LIMIT_ADDRESSES: '100', ADMIN_PORT: '9090', METRICS_TOKEN: 'secret',
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.deepEqual(result.config.fleet, {
      drainTimeoutMs: 1000, startTimeoutMs: 2000, maxPendingStreams: 7, maxCallMs: 60_000, requireSignatures: true,
      trustedProxies: ['10.0.0.0/8', '::1'], webhookRate: { perSecond: 5, burst: 6 }, upgradeRate: { perSecond: 0, burst: 9 },
      rateLimitAddresses: 100, adminPort: 9090, metricsToken: 'secret',
    });
  });

  test('REQUIRE_SIGNATURES=true without TWILIO_AUTH_TOKEN refuses to start', () => {
    const result = loadConfig({ REQUIRE_SIGNATURES: 'true' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, ['REQUIRE_SIGNATURES=true needs TWILIO_AUTH_TOKEN']);
  });

  test('bad values are reported one by one', () => {
    const result = loadConfig({ REQUIRE_SIGNATURES: 'yes', TRUSTED_PROXIES: '10.0.0.0/33,example.com', START_TIMEOUT_MS: '10' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, [
      'START_TIMEOUT_MS=10 is outside 100–120000',
      'REQUIRE_SIGNATURES="yes" must be true or false',
      'TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR block',
      'TRUSTED_PROXIES: "example.com" is not an IP address or CIDR block',
    ]);
  });

  test('CIDR parsing and matching, IPv4 and IPv6', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/', '10.0.0.0/8/8', '1.2.3/8', 'fd00::/129', '10.0.0.0/-1']) assert.equal(parseCidr(bad), undefined, bad);
    const trusted = cidrMatcher(['10.0.0.0/8', 'fd00::/8']);
    assert.equal(trusted('10.255.0.1'), true);
    assert.equal(trusted('11.0.0.1'), false);
    assert.equal(trusted('fd12::1'), true);
    assert.equal(trusted('::ffff:10.0.0.1'), true);
    assert.equal(trusted('garbage'), false);
  });

  test('start-up warnings carry codes: no Twilio auth token, no session secret', () => {
    assert.deepEqual(startupWarnings({ twilioAuthToken: undefined, sessionSecret: undefined }).map((w) => w.code), ['VW_ERR_NO_AUTH_TOKEN', 'VW_ERR_NO_SESSION_SECRET']);
    assert.deepEqual(startupWarnings({ twilioAuthToken: 't', sessionSecret: 's' }), []);
  });
});
