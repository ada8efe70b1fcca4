/** The Deepgram Voice Agent codec against golden fixtures (test/fixtures/deepgram) and properties. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildFunctionCallResponse, buildInjectAgentMessage, buildSettings, buildUpdatePrompt, KEEP_ALIVE, parseDeepgramMessage, SERVER_MESSAGE_TYPES, type DeepgramServerEvent,
} from '../../../src/models/deepgram-agent/codec.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/deepgram');
const fixture = (name: string): string => readFileSync(join(FIXTURES, `${name}.json`), 'utf8');

const EXPECTED: Record<string, DeepgramServerEvent> = {
  Welcome: { kind: 'welcome', requestId: 'fc553ec9-5874-49ca-a47c-b670d525a4b1' },
  SettingsApplied: { kind: 'settings-applied' },
  ConversationText: { kind: 'conversation-text', role: 'assistant', content: 'Hello! How can I help you today?' },
  UserStartedSpeaking: { kind: 'user-started-speaking' },
  AgentThinking: { kind: 'agent-thinking', content: '' },
  AgentStartedSpeaking: { kind: 'agent-started-speaking', totalLatency: 0.81 },
  AgentAudioDone: { kind: 'agent-audio-done' },
  PromptUpdated: { kind: 'prompt-updated' },
  InjectionRefused: { kind: 'injection-refused', message: undefined },
  FunctionCallRequest: { kind: 'function-call-request', functions: [{ id: 'fc_1', name: 'get_weather', arguments: '{"city":"Oslo"}', clientSide: true }] },
  Error: { kind: 'error', code: 'INVALID_SETTINGS', description: 'Settings message is invalid' },
  Warning: { kind: 'warning', code: 'SLOW_AUDIO', description: 'Audio is arriving slowly' },
};

describe('parseDeepgramMessage on golden fixtures', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(`parses ${name}`, () => {
      const parsed = parseDeepgramMessage(fixture(`server.${name}`));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.deepEqual(parsed.events, [expected]);
    });
  }

  test('every message type with an action has a fixture', () => {
    const actionable = SERVER_MESSAGE_TYPES.filter((t) => !['SpeakUpdated', 'ThinkUpdated', 'ListenUpdated', 'History'].includes(t));
    assert.deepEqual([...actionable].sort(), Object.keys(EXPECTED).sort());
  });
});

describe('parseDeepgramMessage on malformed input', () => {
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{nope', 'VW_ERR_BAD_JSON'],
    ['no type', '{}', 'VW_ERR_BAD_FIELD'],
    ['an unknown type', '{"type":"Nope"}', 'VW_ERR_UNKNOWN_EVENT'],
    ['a bad role', '{"type":"ConversationText","role":"robot","content":"x"}', 'VW_ERR_BAD_FIELD'],
    ['content missing', '{"type":"ConversationText","role":"user"}', 'VW_ERR_BAD_FIELD'],
    ['a function call without a name', '{"type":"FunctionCallRequest","functions":[{"id":"1"}]}', 'VW_ERR_BAD_FIELD'],
  ];
  for (const [what, text, code] of cases) {
    test(`${what} is ${code}`, () => {
      const parsed = parseDeepgramMessage(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.error.code, code);
    });
  }

  test('property: any input parses to one event or a coded error, never a throw', () => {
    const typed = fc.record({ type: fc.constantFrom(...SERVER_MESSAGE_TYPES, 'X'), role: fc.anything(), content: fc.anything(), functions: fc.anything(), code: fc.anything() }, { requiredKeys: ['type'] });
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), typed.map((v) => JSON.stringify(v))), (text) => {
      const parsed = parseDeepgramMessage(text);
      if (parsed.ok) assert.equal(parsed.events.length, 1);
      else assert.match(parsed.error.code, /^VW_ERR_/);
    }), { numRuns: 500 });
  });
});

describe('Deepgram client messages', () => {
  test('Settings for a μ-law caller match the golden fixture (μ-law both ways, no container)', () => {
    const text = buildSettings({ encoding: 'mulaw', sampleRate: 8000, listenModel: 'nova-3', thinkProvider: 'open_ai', thinkModel: 'gpt-4o-mini', speakModel: 'aura-2-thalia-en', prompt: 'Be brief.', greeting: undefined });
    assert.deepEqual(JSON.parse(text), JSON.parse(fixture('client.Settings.mulaw')));
  });

  test('client-side functions go in agent.think.functions (golden client.Settings.functions)', () => {
    const functions = [{
      name: 'get_weather', description: 'Get the current weather for a specific location',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    }];
    const text = buildSettings({ encoding: 'mulaw', sampleRate: 8000, listenModel: 'nova-3', thinkProvider: 'open_ai', thinkModel: 'gpt-4o-mini', speakModel: 'aura-2-thalia-en', prompt: 'Be brief.', greeting: undefined, functions });
    assert.deepEqual(JSON.parse(text), JSON.parse(fixture('client.Settings.functions')));
  });

  test('a function result is FunctionCallResponse {id, name, content} (golden fixture)', () => {
    assert.deepEqual(JSON.parse(buildFunctionCallResponse('fc_1', 'get_weather', '{"temperature":12,"sky":"cloudy"}')), JSON.parse(fixture('client.FunctionCallResponse')));
  });

  test('KeepAlive, UpdatePrompt and InjectAgentMessage', () => {
    assert.deepEqual(JSON.parse(KEEP_ALIVE), { type: 'KeepAlive' });
    assert.deepEqual(JSON.parse(buildUpdatePrompt('note')), { type: 'UpdatePrompt', prompt: 'note' });
    assert.deepEqual(JSON.parse(buildInjectAgentMessage('hi')), { type: 'InjectAgentMessage', message: 'hi' });
  });
});
