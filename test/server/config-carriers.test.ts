import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/server/config.js';
import { telnyxKeyPair } from '../helpers/telnyx-keys.js';

describe('loadConfig: carrier credentials (Telnyx, SignalWire, Exotel, Plivo, Vonage)', () => {
  test('unset, nothing is checked and Vonage speaks 16 kHz', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.deepEqual(result.config.carriers, {
      telnyxPublicKey: undefined,
      telnyxStreamToken: undefined,
      signalwireSigningKey: undefined,
      signalwireStreamToken: undefined,
      exotelBasicAuth: undefined,
      plivoAuthToken: undefined,
      vonageSignatureSecret: undefined,
      vonageAudioRate: 16000,
    });
  });

  test('valid values are kept as given (trimmed); VONAGE_AUDIO_RATE takes 8000', () => {
    const key = telnyxKeyPair().publicKeyBase64;
    const result = loadConfig({
      TELNYX_PUBLIC_KEY: key,
      TELNYX_STREAM_TOKEN: 't',
      SIGNALWIRE_SIGNING_KEY: 'PSK_x',
      SIGNALWIRE_STREAM_TOKEN: 's',
      EXOTEL_BASIC_AUTH: 'key:token',
      PLIVO_AUTH_TOKEN: ' tok ',
      VONAGE_SIGNATURE_SECRET: 'sec',
      VONAGE_AUDIO_RATE: '8000',
    });
    assert.ok(result.ok);
    assert.deepEqual(result.config.carriers, {
      telnyxPublicKey: key,
      telnyxStreamToken: 't',
      signalwireSigningKey: 'PSK_x',
      signalwireStreamToken: 's',
      exotelBasicAuth: 'key:token',
      plivoAuthToken: 'tok',
      vonageSignatureSecret: 'sec',
      vonageAudioRate: 8000,
    });
  });

  test('a Telnyx key that is not 32 bytes of base64, or Exotel credentials without a colon, stop the start with their own message', () => {
    const result = loadConfig({ TELNYX_PUBLIC_KEY: Buffer.alloc(31).toString('base64'), EXOTEL_BASIC_AUTH: 'no-colon' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, ['TELNYX_PUBLIC_KEY must be the base64 of a 32-byte Ed25519 public key', 'EXOTEL_BASIC_AUTH must be key:token']);
  });

  test('any other VONAGE_AUDIO_RATE is refused with a message naming it', () => {
    for (const rate of ['24000', '44100', 'fast']) {
      const result = loadConfig({ VONAGE_AUDIO_RATE: rate });
      assert.ok(!result.ok);
      assert.deepEqual(result.problems, [`VONAGE_AUDIO_RATE=${JSON.stringify(rate)} must be one of 16000, 8000`]);
    }
  });
});
