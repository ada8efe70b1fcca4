import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionEndpoint, socketUrl } from '../../client/src/connection.js';

describe('SDK: a gateway on another origin', () => {
  const page = 'https://app.example/call/index.html';

  test('sessionEndpoint: sessionUrl wins, then gatewayUrl, then the page origin', () => {
    assert.equal(sessionEndpoint({}, page), 'https://app.example/session');
    assert.equal(sessionEndpoint({ sessionUrl: '/api/session' }, page), 'https://app.example/api/session');
    assert.equal(sessionEndpoint({ gatewayUrl: 'https://voice.example' }, page), 'https://voice.example/session');
    assert.equal(sessionEndpoint({ gatewayUrl: 'https://voice.example/vw' }, page), 'https://voice.example/vw/session');
    assert.equal(sessionEndpoint({ gatewayUrl: 'https://voice.example/vw/', sessionUrl: 'https://x.example/s' }, page), 'https://x.example/s');
  });

  test('socketUrl: a path resolves against the gateway, http(s) becomes ws(s), the token is a query parameter', () => {
    const url = socketUrl({ token: 't o', wsUrl: '/browser' }, 'https://voice.example/session');
    assert.equal(url.href, 'wss://voice.example/browser?token=t+o');
    assert.equal(socketUrl({ token: 'x', wsUrl: 'wss://other.example/browser' }, page).href, 'wss://other.example/browser?token=x');
    assert.equal(socketUrl({ token: 'x', wsUrl: '/browser' }, 'http://127.0.0.1:8080/').href, 'ws://127.0.0.1:8080/browser?token=x');
  });
});
