import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/server/config.js';
import { telnyxKeyPair } from '../helpers/telnyx-keys.js';

describe('loadConfig: Telnyx, SignalWire and Exotel credentials', () => {
  test('unset, nothing is checked', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.deepEqual(result.config.carriersA, { telnyxPublicKey: undefined, telnyxStreamToken: undefined, signalwireSigningKey: undefined, signalwireStreamToken: undefined, exotelBasicAuth: undefined });
  });

  test('valid values are kept as given', () => {
    const key = telnyxKeyPair().publicKeyBase64;
    const result = loadConfig({ TELNYX_PUBLIC_KEY: key, TELNYX_STREAM_TOKEN: 't', SIGNALWIRE_SIGNING_KEY: 'PSK_x', SIGNALWIRE_STREAM_TOKEN: 's', EXOTEL_BASIC_AUTH: 'key:token' });
    assert.ok(result.ok);
    assert.deepEqual(result.config.carriersA, { telnyxPublicKey: key, telnyxStreamToken: 't', signalwireSigningKey: 'PSK_x', signalwireStreamToken: 's', exotelBasicAuth: 'key:token' });
  });

  test('a Telnyx key that is not 32 bytes of base64, or Exotel credentials without a colon, stop the start with their own message', () => {
    const result = loadConfig({ TELNYX_PUBLIC_KEY: Buffer.alloc(31).toString('base64'), EXOTEL_BASIC_AUTH: 'no-colon' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, ['TELNYX_PUBLIC_KEY must be the base64 of a 32-byte Ed25519 public key', 'EXOTEL_BASIC_AUTH must be key:token']);
  });
});
