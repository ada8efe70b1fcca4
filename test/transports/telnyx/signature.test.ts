import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { telnyxPublicKey, verifyTelnyxSignature } from '../../../src/transports/telnyx/signature.js';
import { telnyxKeyPair } from '../../helpers/telnyx-keys.js';

void describe('Telnyx Ed25519 webhook signatures', () => {
  const pair = telnyxKeyPair();
  const key = telnyxPublicKey(pair.publicKeyBase64)!;
  const body = 'CallSid=v3%3Aabc&From=%2B15551234567';
  const now = 1_760_000_000;
  const ts = String(now);

  void test('a signature over timestamp|body verifies', () => {
    assert.equal(verifyTelnyxSignature({ key, signature: pair.sign(ts, body), timestamp: ts, rawBody: body, nowS: now }), true);
  });
  void test('a changed body, timestamp or key fails', () => {
    const signature = pair.sign(ts, body);
    assert.equal(verifyTelnyxSignature({ key, signature, timestamp: ts, rawBody: body + 'x', nowS: now }), false);
    assert.equal(verifyTelnyxSignature({ key, signature, timestamp: String(now + 1), rawBody: body, nowS: now }), false);
    const other = telnyxPublicKey(telnyxKeyPair().publicKeyBase64)!;
    assert.equal(verifyTelnyxSignature({ key: other, signature, timestamp: ts, rawBody: body, nowS: now }), false);
  });
  void test('a timestamp older than the tolerance is refused even with a valid signature (replay)', () => {
    const old = String(now - 301);
    assert.equal(verifyTelnyxSignature({ key, signature: pair.sign(old, body), timestamp: old, rawBody: body, nowS: now }), false);
    assert.equal(verifyTelnyxSignature({ key, signature: pair.sign(old, body), timestamp: old, rawBody: body, nowS: now, toleranceS: 400 }), true);
  });
  void test('missing or malformed headers fail without throwing', () => {
    for (const [signature, timestamp] of [[undefined, ts], [pair.sign(ts, body), undefined], ['@@', ts], ['AAAA', ts], [pair.sign(ts, body), '12x']] as const) {
      assert.equal(verifyTelnyxSignature({ key, signature, timestamp, rawBody: body, nowS: now }), false);
    }
  });
  void test('only base64 of exactly 32 bytes is a public key', () => {
    assert.equal(telnyxPublicKey(Buffer.alloc(31).toString('base64')), undefined);
    assert.equal(telnyxPublicKey('not base64!'), undefined);
    assert.ok(telnyxPublicKey(pair.publicKeyBase64));
  });
});
