/** MODEL_BACKEND for the socket-bridged backends (issue 13): keys, auto precedence, URLs, defaults. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_BACKEND_ORDER, loadConfig } from '../../src/server/config.js';

describe('loadConfig: model backends', () => {
  test('auto picks by key in the documented order: OpenAI, Gemini, Deepgram, ElevenLabs, else the cascade', () => {
    assert.deepEqual(AUTO_BACKEND_ORDER, ['openai-realtime', 'gemini-live', 'deepgram-agent', 'elevenlabs-agent']);
    const all = { OPENAI_API_KEY: 'o', GEMINI_API_KEY: 'g', DEEPGRAM_API_KEY: 'd', ELEVENLABS_API_KEY: 'e', ELEVENLABS_AGENT_ID: 'a' };
    const pick = (env: Record<string, string>): string => {
      const result = loadConfig(env);
      assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
      return result.config.backend;
    };
    assert.equal(pick(all), 'openai-realtime');
    assert.equal(pick({ ...all, OPENAI_API_KEY: '' }), 'gemini-live');
    assert.equal(pick({ DEEPGRAM_API_KEY: 'd', ELEVENLABS_API_KEY: 'e', ELEVENLABS_AGENT_ID: 'a' }), 'deepgram-agent');
    assert.equal(pick({ ELEVENLABS_API_KEY: 'e', ELEVENLABS_AGENT_ID: 'a' }), 'elevenlabs-agent');
    // An ElevenLabs key without an agent cannot make a call: auto does not pick it.
    assert.equal(pick({ ELEVENLABS_API_KEY: 'e' }), 'cascade');
  });

  test('an explicit backend needs its key (every missing one is reported)', () => {
    for (const [backend, needs] of [
      ['gemini-live', 'GEMINI_API_KEY'], ['deepgram-agent', 'DEEPGRAM_API_KEY'], ['elevenlabs-agent', 'ELEVENLABS_AGENT_ID'],
    ] as const) {
      const result = loadConfig({ MODEL_BACKEND: backend });
      assert.equal(result.ok, false);
      if (!result.ok) assert.ok(result.problems.some((p) => p.includes(needs)), `${backend}: ${result.problems.join('; ')}`);
    }
    const unknown = loadConfig({ MODEL_BACKEND: 'gemini' });
    assert.equal(unknown.ok, false);
  });

  test('defaults: Google\'s BidiGenerateContent endpoint, Deepgram\'s converse endpoint and models, ElevenLabs\' conversation socket', () => {
    const result = loadConfig({ GEMINI_API_KEY: 'g' });
    assert.ok(result.ok);
    const { gemini, deepgram, elevenlabs } = result.config;
    assert.equal(gemini.url, 'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent');
    assert.equal(gemini.model, 'gemini-3.1-flash-live-preview');
    assert.equal(gemini.voice, undefined, 'VOICE unset: the model\'s own voice, not OpenAI\'s default');
    assert.equal(deepgram.url, 'wss://agent.deepgram.com/v1/agent/converse');
    assert.deepEqual([deepgram.listenModel, deepgram.thinkProvider, deepgram.thinkModel, deepgram.speakModel], ['nova-3', 'open_ai', 'gpt-4o-mini', 'aura-2-thalia-en']);
    assert.equal(elevenlabs.url, 'wss://api.elevenlabs.io/v1/convai/conversation');
    assert.equal(result.config.instructionsSet, false);
  });

  test('URLs must be ws(s); settings are kept as given', () => {
    const bad = loadConfig({ GEMINI_API_KEY: 'g', GEMINI_LIVE_URL: 'https://example.com', DEEPGRAM_AGENT_URL: 'nope', ELEVENLABS_URL: 'http://x' });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.problems.length, 3);
    const good = loadConfig({
      MODEL_BACKEND: 'deepgram-agent', DEEPGRAM_API_KEY: 'd', DEEPGRAM_AGENT_URL: 'ws://127.0.0.1:9/v1/agent/converse',
      DEEPGRAM_THINK_PROVIDER: 'anthropic', DEEPGRAM_THINK_MODEL: 'claude-3-haiku', VOICE: 'Puck', INSTRUCTIONS: 'Be brief.',
    });
    assert.ok(good.ok);
    assert.equal(good.config.deepgram.url, 'ws://127.0.0.1:9/v1/agent/converse');
    assert.equal(good.config.deepgram.thinkProvider, 'anthropic');
    assert.equal(good.config.gemini.voice, 'Puck');
    assert.equal(good.config.instructionsSet, true);
  });
});
