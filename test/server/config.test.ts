import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config.js';

describe('loadConfig', () => {
  test('an empty environment gives the offline cascade on port 8080 with an 800 ms window', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.equal(result.config.backend, 'cascade');
    assert.equal(result.config.port, 8080);
    assert.equal(result.config.creditWindowMs, 800);
    assert.equal(result.config.openai.realtimeUrl, 'wss://api.openai.com/v1/realtime?model=gpt-realtime');
  });

  test('CREDIT_WINDOW_MS is a fixed window, or auto (adaptive, starting at 800); anything else is a problem', () => {
    const fixed = loadConfig({ CREDIT_WINDOW_MS: '600' });
    assert.ok(fixed.ok);
    assert.deepEqual([fixed.config.creditWindowMs, fixed.config.creditWindowAuto], [600, false]);
    const auto = loadConfig({ CREDIT_WINDOW_MS: 'auto' });
    assert.ok(auto.ok);
    assert.deepEqual([auto.config.creditWindowMs, auto.config.creditWindowAuto], [800, true]);
    const unset = loadConfig({});
    assert.ok(unset.ok);
    assert.equal(unset.config.creditWindowAuto, false);
    const bad = loadConfig({ CREDIT_WINDOW_MS: 'fast' });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.problems, ['CREDIT_WINDOW_MS="fast" is neither a whole number (200–2000) nor auto']);
    const outside = loadConfig({ CREDIT_WINDOW_MS: '5000' });
    assert.ok(!outside.ok);
    assert.deepEqual(outside.problems, ['CREDIT_WINDOW_MS=5000 is outside 200–2000']);
  });

  test('OPENAI_API_KEY selects Realtime unless MODEL_BACKEND=cascade', () => {
    const realtime = loadConfig({ OPENAI_API_KEY: 'sk-test' });
    assert.ok(realtime.ok);
    assert.equal(realtime.config.backend, 'openai-realtime');
    const cascade = loadConfig({ OPENAI_API_KEY: 'sk-test', MODEL_BACKEND: 'cascade' });
    assert.ok(cascade.ok);
    assert.equal(cascade.config.backend, 'cascade');
  });

  test('a custom Realtime URL (Azure, a proxy) is kept as given', () => {
    const url = 'wss://res.openai.azure.com/openai/v1/realtime?model=my-deployment';
    const result = loadConfig({ OPENAI_API_KEY: 'k', OPENAI_REALTIME_URL: url });
    assert.ok(result.ok);
    assert.equal(result.config.openai.realtimeUrl, url);
  });

  test('OPENAI_AUTH_HEADER picks how the key is sent; auto leaves it to the URL', () => {
    const azure = loadConfig({ OPENAI_API_KEY: 'k', OPENAI_AUTH_HEADER: 'api-key' });
    assert.ok(azure.ok);
    assert.equal(azure.config.openai.authHeader, 'api-key');
    const auto = loadConfig({ OPENAI_API_KEY: 'k' });
    assert.ok(auto.ok);
    assert.equal(auto.config.openai.authHeader, undefined);
    assert.ok(!loadConfig({ OPENAI_API_KEY: 'k', OPENAI_AUTH_HEADER: 'basic' }).ok);
  });

  test('START_CUSHION_MS and START_HOLD_MS: 300 and 60 by default, 0 turns the cushion off, bounded', () => {
    const unset = loadConfig({});
    assert.ok(unset.ok);
    assert.deepEqual([unset.config.startCushionMs, unset.config.startHoldMs], [300, 60]);
    const off = loadConfig({ START_CUSHION_MS: '0', START_HOLD_MS: '0' });
    assert.ok(off.ok);
    assert.deepEqual([off.config.startCushionMs, off.config.startHoldMs], [0, 0]);
    const outside = loadConfig({ START_CUSHION_MS: '1001', START_HOLD_MS: '501' });
    assert.ok(!outside.ok);
    assert.deepEqual(outside.problems, ['START_CUSHION_MS=1001 is outside 0–1000', 'START_HOLD_MS=501 is outside 0–500']);
  });

  test('LOCAL_BARGE_IN_MS: off (0) by default, up to 500', () => {
    const unset = loadConfig({});
    assert.ok(unset.ok);
    assert.equal(unset.config.localBargeInMs, 0);
    const on = loadConfig({ LOCAL_BARGE_IN_MS: '40' });
    assert.ok(on.ok);
    assert.equal(on.config.localBargeInMs, 40);
    const outside = loadConfig({ LOCAL_BARGE_IN_MS: '501' });
    assert.ok(!outside.ok);
    assert.deepEqual(outside.problems, ['LOCAL_BARGE_IN_MS=501 is outside 0–500']);
  });

  test('LOCAL_BARGE_IN_HOLD_MS: 1 000 by default, 100–5 000', () => {
    for (const [value, expected] of [[undefined, 1_000], ['600', 600]] as const) {
      const result = loadConfig(value === undefined ? {} : { LOCAL_BARGE_IN_HOLD_MS: value });
      assert.ok(result.ok);
      assert.equal(result.config.localBargeInHoldMs, expected);
    }
    for (const value of ['99', '5001']) {
      const result = loadConfig({ LOCAL_BARGE_IN_HOLD_MS: value });
      assert.ok(!result.ok);
      assert.deepEqual(result.problems, [`LOCAL_BARGE_IN_HOLD_MS=${value} is outside 100–5000`]);
    }
  });

  test('every bad value is reported with its own message', () => {
    const result = loadConfig({
      PORT: 'eighty',
      CREDIT_WINDOW_MS: '5000',
      OPENAI_REALTIME_URL: 'https://not-a-websocket',
      MODEL_BACKEND: 'magic',
      PUBLIC_URL: 'not a url',
    });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, [
      'MODEL_BACKEND="magic" must be one of openai-realtime, gemini-live, deepgram-agent, elevenlabs-agent, cascade, auto',
      'OPENAI_REALTIME_URL must use wss: or ws: (got https:)',
      'PORT="eighty" is not a whole number',
      'PUBLIC_URL="not a url" is not a URL',
      'CREDIT_WINDOW_MS=5000 is outside 200–2000',
    ]);
  });

  test('MODEL_BACKEND=openai-realtime without a key is refused', () => {
    const result = loadConfig({ MODEL_BACKEND: 'openai-realtime' });
    assert.ok(!result.ok);
    assert.match(result.problems.join('\n'), /needs OPENAI_API_KEY/);
  });

  test('ALLOWED_ORIGINS is a comma-separated list', () => {
    const result = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example,' });
    assert.ok(result.ok);
    assert.deepEqual(result.config.allowedOrigins, ['https://a.example', 'https://b.example']);
  });
});

describe('loadConfig: acting agents', () => {
  test('defaults: no setup webhook, no tools, no events, 3000 ms setup deadline, Twilio\'s API', () => {
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.deepEqual(result.config.agent, {
      setupUrl: undefined, setupTimeoutMs: 3000, tools: [], eventsUrl: undefined, transcribeModel: undefined,
      twilioApiUrl: 'https://api.twilio.com', twilioAccountSid: undefined,
    });
  });

  test('TOOLS_FILE is read and validated at start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ name: 'lookup', url: 'https://tools.example/lookup', timeoutMs: 2000 }]));
    const ok = loadConfig({ TOOLS_FILE: good });
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.agent.tools, [{ name: 'lookup', description: '', parameters: { type: 'object', properties: {} }, url: 'https://tools.example/lookup', timeoutMs: 2000 }]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'end_call', url: 'https://x.example' }]));
    assert.deepEqual(loadConfig({ TOOLS_FILE: bad }), { ok: false, problems: [`TOOLS_FILE ${bad}: bad or missing field tools[0].name`] });
    const missing = loadConfig({ TOOLS_FILE: join(dir, 'nope.json') });
    assert.ok(!missing.ok && missing.problems[0]!.startsWith(`TOOLS_FILE ${join(dir, 'nope.json')}: ENOENT`));
    rmSync(dir, { recursive: true, force: true });
  });

  test('every bad agent value is reported', () => {
    const result = loadConfig({
      CALL_SETUP_URL: 'ftp://x', CALL_SETUP_TIMEOUT_MS: '20', EVENTS_URL: 'nope', TRANSCRIBE_MODEL: 'a model',
      TWILIO_ACCOUNT_SID: 'AC123', TWILIO_API_URL: 'ws://x',
    });
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 6, result.problems.join('; '));
  });
});
