import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/server/config.js';

describe('loadConfig: Plivo and Vonage', () => {
  test('no credentials by default, Vonage at 16 kHz', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.equal(result.config.plivoAuthToken, undefined);
    assert.equal(result.config.vonageSignatureSecret, undefined);
    assert.equal(result.config.vonageAudioRate, 16000);
  });

  test('credentials are kept trimmed; VONAGE_AUDIO_RATE takes 8000', () => {
    const result = loadConfig({ PLIVO_AUTH_TOKEN: ' tok ', VONAGE_SIGNATURE_SECRET: 'sec', VONAGE_AUDIO_RATE: '8000' });
    assert.ok(result.ok);
    assert.equal(result.config.plivoAuthToken, 'tok');
    assert.equal(result.config.vonageSignatureSecret, 'sec');
    assert.equal(result.config.vonageAudioRate, 8000);
  });

  test('any other VONAGE_AUDIO_RATE is refused with a message naming it', () => {
    for (const rate of ['24000', '44100', 'fast']) {
      const result = loadConfig({ VONAGE_AUDIO_RATE: rate });
      assert.ok(!result.ok);
      assert.match(result.problems.join('\n'), /VONAGE_AUDIO_RATE/);
    }
  });
});
