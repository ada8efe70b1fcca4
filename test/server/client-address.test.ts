import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { clientAddress } from '../../src/server/client-address.js';
import { cidrMatcher } from '../../src/server/fleet-config.js';

function request(peer: string, xff?: string | string[]): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  const trusted = cidrMatcher(['10.0.0.0/8', '127.0.0.1']);

  test('without a trusted peer X-Forwarded-For is ignored (a client could forge it)', () => {
    assert.equal(clientAddress(request('203.0.113.9', '1.2.3.4'), trusted), '203.0.113.9');
  });

  test('from a trusted proxy, the rightmost untrusted hop is the client', () => {
    assert.equal(clientAddress(request('10.1.2.3', '198.51.100.7'), trusted), '198.51.100.7');
    // The client forged a first entry; the proxy appended what it saw.
    assert.equal(clientAddress(request('10.1.2.3', '1.1.1.1, 198.51.100.7'), trusted), '198.51.100.7');
    // Two trusted proxies in a row.
    assert.equal(clientAddress(request('127.0.0.1', '198.51.100.7, 10.9.9.9'), trusted), '198.51.100.7');
    // Repeated headers are one list.
    assert.equal(clientAddress(request('10.1.2.3', ['1.1.1.1', '198.51.100.8']), trusted), '198.51.100.8');
  });

  test('a trusted proxy without the header, or with garbage, gives the proxy or the last good hop', () => {
    assert.equal(clientAddress(request('10.1.2.3'), trusted), '10.1.2.3');
    assert.equal(clientAddress(request('10.1.2.3', 'not-an-ip'), trusted), '10.1.2.3');
    assert.equal(clientAddress(request('10.1.2.3', 'junk, 10.0.0.5'), trusted), '10.0.0.5');
  });

  test('IPv4-mapped IPv6 peers are one client with their IPv4 form', () => {
    assert.equal(clientAddress(request('::ffff:203.0.113.9'), trusted), '203.0.113.9');
    assert.equal(clientAddress(request('::ffff:10.0.0.1', '::ffff:198.51.100.7'), trusted), '198.51.100.7');
  });
});
