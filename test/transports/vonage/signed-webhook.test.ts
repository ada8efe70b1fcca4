import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { payloadHash, queryPayload, signHs256, verifyHs256, verifySignedWebhook } from '../../../src/transports/vonage/signed-webhook.js';

const SECRET = 'vonage-signature-secret-0123456789';
const NOW = 1_800_000_000;

describe('Vonage signed webhooks (JWT HS256)', () => {
  test('a token signed under the secret verifies, with its claims; the HMAC is over header.payload', () => {
    const token = signHs256({ iat: NOW, iss: 'Vonage', api_key: 'abc123' }, SECRET);
    const [h, p, s] = token.split('.');
    assert.equal(s, createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'));
    const check = verifyHs256(token, SECRET, NOW);
    assert.deepEqual(check, { ok: true, claims: { iat: NOW, iss: 'Vonage', api_key: 'abc123' } });
  });

  test('wrong secret, tampered claims, another algorithm, expiry and junk are refused with a reason', () => {
    const token = signHs256({ iat: NOW }, SECRET);
    const [h, , s] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ iat: NOW + 1 })).toString('base64url')}.${s}`;
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    const reasons = [
      verifyHs256(token, 'other', NOW),
      verifyHs256(tampered, SECRET, NOW),
      verifyHs256(none, SECRET, NOW),
      verifyHs256(signHs256({ exp: NOW - 1 }, SECRET), SECRET, NOW),
      verifyHs256('a.b', SECRET, NOW),
      verifyHs256(token, '', NOW),
    ].map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(reasons, ['bad signature', 'bad signature', 'alg is not HS256', 'expired', 'not a JWT', 'no secret']);
  });

  test('payload_hash must be the SHA-256 of the body (POST) or of the query as a JSON object (GET)', () => {
    const body = '{"uuid":"u1","from":"447700900000"}';
    const bearer = (claims: Record<string, unknown>): string => `Bearer ${signHs256(claims, SECRET)}`;
    assert.equal(verifySignedWebhook(bearer({ payload_hash: payloadHash(body) }), SECRET, body, NOW).ok, true);
    assert.equal(verifySignedWebhook(bearer({ payload_hash: payloadHash(body) }), SECRET, body.replace('u1', 'u2'), NOW).ok, false);
    const query = new URLSearchParams('to=442079460000&from=447700900000&uuid=u1');
    assert.equal(queryPayload(query), '{"to":"442079460000","from":"447700900000","uuid":"u1"}');
    assert.equal(verifySignedWebhook(bearer({ payload_hash: payloadHash(queryPayload(query)) }), SECRET, queryPayload(query), NOW).ok, true);
    assert.equal(verifySignedWebhook(bearer({ iat: NOW }), SECRET, 'anything', NOW).ok, true, 'no payload_hash: the signature alone');
    assert.equal(verifySignedWebhook(undefined, SECRET, body, NOW).ok, false);
    assert.equal(verifySignedWebhook(`Basic ${signHs256({}, SECRET)}`, SECRET, body, NOW).ok, false);
  });

  test('any single-character change to a token is refused (property)', () => {
    const token = signHs256({ iat: NOW, payload_hash: payloadHash('x') }, SECRET);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCabc012-_.'), (at, c) => {
        const changed = token.slice(0, at) + c + token.slice(at + 1);
        if (changed === token) return;
        const result = verifyHs256(changed, SECRET, NOW);
        // base64url's last character may carry unused bits: a change there can decode to the same bytes.
        if (result.ok) assert.equal(Buffer.from(changed.split('.')[2] ?? '', 'base64url').equals(Buffer.from(token.split('.')[2] ?? '', 'base64url')), true);
      }),
      { numRuns: 1000 },
    );
  });
});
