/** The ElevenLabs Agents codec against golden fixtures (test/fixtures/elevenlabs) and properties. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildClientToolResult, buildContextualUpdate, buildInitiation, buildPong, buildUserAudio, formatOf, parseElevenMessage, SERVER_MESSAGE_TYPES, type ElevenServerEvent,
} from '../../../src/models/elevenlabs-agent/codec.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/elevenlabs');
const fixture = (name: string): string => readFileSync(join(FIXTURES, `${name}.json`), 'utf8');

const EXPECTED: Record<string, ElevenServerEvent> = {
  conversation_initiation_metadata: { kind: 'initiation-metadata', conversationId: 'conv_123', outputFormat: 'ulaw_8000', inputFormat: 'ulaw_8000' },
  audio: { kind: 'audio', bytes: new Uint8Array([0xff, 0x7f, 0x7f, 0x7f]), eventId: 7 },
  interruption: { kind: 'interruption', eventId: 7 },
  ping: { kind: 'ping', eventId: 12, pingMs: 50 },
  agent_response: { kind: 'agent-response', text: 'Hello! How can I help you today?' },
  agent_response_correction: { kind: 'agent-response-correction', original: 'Hello! How can I help you today?', corrected: 'Hello! How can' },
  user_transcript: { kind: 'user-transcript', text: 'What is the weather?' },
  vad_score: { kind: 'vad-score', score: 0.95 },
  client_tool_call: { kind: 'client-tool-call', toolName: 'check_account', toolCallId: 'call_1', parameters: { id: '42' } },
  internal_tentative_agent_response: { kind: 'tentative-agent-response', text: 'Let me check' },
};

describe('parseElevenMessage on golden fixtures', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(`parses ${name}`, () => {
      const parsed = parseElevenMessage(fixture(`server.${name}`));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.deepEqual(parsed.events, [expected]);
    });
  }

  test('every message type with an action has a fixture', () => {
    const actionable = SERVER_MESSAGE_TYPES.filter((t) => !['agent_tool_response', 'mcp_tool_call', 'mcp_connection_status', 'agent_chat_response_part'].includes(t));
    assert.deepEqual([...actionable].sort(), Object.keys(EXPECTED).sort());
  });
});

describe('parseElevenMessage on malformed input', () => {
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{nope', 'VW_ERR_BAD_JSON'],
    ['no type', '{"audio_event":{}}', 'VW_ERR_BAD_FIELD'],
    ['an unknown type', '{"type":"nope"}', 'VW_ERR_UNKNOWN_EVENT'],
    ['bad base64 audio', '{"type":"audio","audio_event":{"audio_base_64":"***","event_id":1}}', 'VW_ERR_BAD_BASE64'],
    ['a negative event id', '{"type":"interruption","interruption_event":{"event_id":-1}}', 'VW_ERR_BAD_FIELD'],
    ['a ping without its event', '{"type":"ping"}', 'VW_ERR_BAD_FIELD'],
  ];
  for (const [what, text, code] of cases) {
    test(`${what} is ${code}`, () => {
      const parsed = parseElevenMessage(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.error.code, code);
    });
  }

  test('property: any input parses to one event or a coded error, never a throw', () => {
    const typed = fc.record({
      type: fc.constantFrom(...SERVER_MESSAGE_TYPES, 'x'), audio_event: fc.anything(), ping_event: fc.anything(),
      interruption_event: fc.anything(), conversation_initiation_metadata_event: fc.anything(),
    }, { requiredKeys: ['type'] });
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), typed.map((v) => JSON.stringify(v))), (text) => {
      const parsed = parseElevenMessage(text);
      if (parsed.ok) assert.equal(parsed.events.length, 1);
      else assert.match(parsed.error.code, /^VW_ERR_/);
    }), { numRuns: 500 });
  });
});

describe('ElevenLabs client messages', () => {
  test('initiation with a prompt override matches the golden fixture', () => {
    assert.deepEqual(JSON.parse(buildInitiation({ prompt: 'Be brief.' })), JSON.parse(fixture('client.conversation_initiation_client_data')));
    assert.deepEqual(JSON.parse(buildInitiation({ prompt: undefined })), { type: 'conversation_initiation_client_data', conversation_config_override: {} });
  });

  test('user_audio_chunk is a bare key; pong echoes the event_id; contextual_update carries text', () => {
    assert.deepEqual(JSON.parse(buildUserAudio(new Uint8Array([0xff, 0x7f]))), { user_audio_chunk: '/38=' });
    assert.deepEqual(JSON.parse(buildPong(12)), { type: 'pong', event_id: 12 });
    assert.deepEqual(JSON.parse(buildContextualUpdate('heard')), { type: 'contextual_update', text: 'heard' });
    assert.deepEqual(JSON.parse(buildClientToolResult('call_1', 'nope', true)), { type: 'client_tool_result', tool_call_id: 'call_1', result: 'nope', is_error: true });
    assert.deepEqual(JSON.parse(buildClientToolResult('call_1', '{"balance":"42.00"}', false)), JSON.parse(fixture('client.client_tool_result')));
  });

  test('formatOf knows the formats voicewire can resample', () => {
    assert.deepEqual(formatOf('ulaw_8000'), { encoding: 'pcmu', sampleRate: 8000 });
    assert.deepEqual(formatOf('pcm_16000'), { encoding: 'pcm16', sampleRate: 16000 });
    assert.equal(formatOf('pcm_44100'), undefined);
    assert.equal(formatOf('mp3_44100_128'), undefined);
  });
});
