import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { computeSignature } from '../../../src/transports/twilio/signature.js';
import { validateSignalWireSignature } from '../../../src/transports/signalwire/signature.js';

void describe('SignalWire webhook signatures (signing key)', () => {
  const key = 'PSK_signing_key_for_tests';
  const url = 'https://gw.example.com/signalwire/voice';
  const form = new URLSearchParams({ CallSid: '19e436af-5688-4307-b03b-bdb2b42b8142', From: '+15551234567', To: '+15557654321' });
  const body = form.toString();

  void test('scheme B (cXML form): base64 HMAC-SHA1 over URL + sorted pairs, as Twilio', () => {
    assert.equal(validateSignalWireSignature(key, computeSignature(key, url, form), url, form, body), true);
    assert.equal(validateSignalWireSignature(key, computeSignature(key, `https://gw.example.com:443/signalwire/voice`, form), url, form, body), true, 'default port written out');
  });
  void test('scheme A (JSON webhooks): hex HMAC-SHA1 over URL + raw body', () => {
    const json = '{"call":{"call_id":"x"}}';
    const hex = createHmac('sha1', key).update(url + json).digest('hex');
    assert.equal(validateSignalWireSignature(key, hex, url, new URLSearchParams(), json), true);
  });
  void test('another key, another URL, a changed field or no signature fail', () => {
    assert.equal(validateSignalWireSignature(key, computeSignature('other', url, form), url, form, body), false);
    assert.equal(validateSignalWireSignature(key, computeSignature(key, `${url}x`, form), url, form, body), false);
    const changed = new URLSearchParams(form);
    changed.set('From', '+15550000000');
    assert.equal(validateSignalWireSignature(key, computeSignature(key, url, form), url, changed, changed.toString()), false);
    assert.equal(validateSignalWireSignature(key, undefined, url, form, body), false);
    assert.equal(validateSignalWireSignature('', computeSignature('', url, form), url, form, body), false);
  });
});
