// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PCM16_16K, TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import { authHeaders, pickAuthHeader, resolveOptions } from '../../../src/models/openai-realtime/options.js';

describe('OpenAI Realtime options', () => {
  test('defaults: OpenAI URL for gpt-realtime, Bearer auth, marin, pcmu for a μ-law caller', () => {
    const o = resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'sk-1' });
    assert.equal(o.url, 'wss://api.openai.com/v1/realtime?model=gpt-realtime');
    assert.deepEqual(o.headers, { Authorization: 'Bearer sk-1' });
    assert.equal(o.voice, 'marin');
    assert.equal(o.wireFormat, 'pcmu');
    assert.equal(o.turnDetection.create_response, true);
    assert.equal(o.turnDetection.interrupt_response, true);
    assert.equal(o.inputQueueMs, 2000);
    assert.equal(o.maxPayload, 16 * 1024 * 1024);
  });

  test('a non-μ-law caller defaults to PCM16 24 kHz on the wire', () => {
    assert.equal(resolveOptions({ callerFormat: PCM16_16K, apiKey: 'k' }).wireFormat, 'pcm24k');
  });

  test('an Azure host picks the api-key header unless told otherwise', () => {
    const azure = 'wss://my-res.openai.azure.com/openai/v1/realtime?model=my-deploy';
    assert.equal(pickAuthHeader(azure), 'api-key');
    assert.deepEqual(resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'az', url: azure }).headers, { 'api-key': 'az' });
    assert.deepEqual(
      resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'entra', url: azure, authHeader: 'bearer' }).headers,
      { Authorization: 'Bearer entra' },
    );
    assert.equal(pickAuthHeader('wss://proxy.example.com/v1/realtime'), 'bearer');
    assert.equal(pickAuthHeader('wss://evil.openai.azure.com.example.com/x'), 'bearer');
  });

  test('Azure Voice Live hosts (Foundry and older Speech resources) pick the api-key header', () => {
    const foundry = 'wss://my-foundry.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime';
    const speech = 'wss://my-speech.cognitiveservices.azure.com/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime';
    assert.equal(pickAuthHeader(foundry), 'api-key');
    assert.equal(pickAuthHeader(speech), 'api-key');
    assert.equal(pickAuthHeader('WSS://MY-SPEECH.CognitiveServices.Azure.com/voice-live/realtime'), 'api-key');
    assert.deepEqual(resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'vl', url: foundry }).headers, { 'api-key': 'vl' });
    assert.equal(pickAuthHeader('wss://services.ai.azure.com.example.com/voice-live/realtime'), 'bearer');
    assert.equal(pickAuthHeader('wss://cognitiveservices.azure.com.evil.example/voice-live/realtime'), 'bearer');
    assert.equal(pickAuthHeader('wss://my-res.notcognitiveservices.azure.comx/voice-live/realtime'), 'bearer');
  });

  test('never sends the OpenAI-Beta header (the beta shape is disabled)', () => {
    for (const mode of ['bearer', 'api-key'] as const) {
      assert.ok(!Object.keys(authHeaders('k', mode)).some((h) => h.toLowerCase() === 'openai-beta'));
    }
  });

  test('the model goes into the default URL, escaped', () => {
    const o = resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'k', model: 'gpt-realtime-mini&x=1' });
    assert.equal(new URL(o.url).searchParams.get('model'), 'gpt-realtime-mini&x=1');
  });

  test('bad bounds and URLs are VW_ERR_CONFIG', () => {
    const bad = [
      { inputQueueMs: 0 },
      { inputQueueMs: Infinity },
      { maxBufferedBytes: -1 },
      { connectTimeoutMs: Number.NaN },
      { url: 'https://api.openai.com/v1/realtime' },
      { url: 'not a url' },
      { apiKey: '' },
    ];
    for (const extra of bad) {
      assert.throws(
        () => resolveOptions({ callerFormat: TWILIO_FORMAT, apiKey: 'k', ...extra }),
        (err: unknown) => isVoicewireError(err, 'VW_ERR_CONFIG'),
        JSON.stringify(extra),
      );
    }
  });
});
