/**
 * The Gemini Live codec against golden fixtures (test/fixtures/gemini, sources in its README) and
 * properties: anything malformed is a coded error result, never a throw.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildContextNote, buildRealtimeAudio, buildSetup, buildToolResponse, durationMs, parseGeminiMessage, pcmRate, type GeminiServerEvent,
} from '../../../src/models/gemini-live/codec.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/gemini');
const fixture = (name: string): string => readFileSync(join(FIXTURES, `${name}.json`), 'utf8');

const EXPECTED: Record<string, GeminiServerEvent[]> = {
  'server.setupComplete': [{ kind: 'setup-complete' }],
  'server.serverContent.audio': [{ kind: 'audio', bytes: new Uint8Array([0, 0, 1, 0, 2, 0]), sampleRate: 24000 }],
  'server.serverContent.outputTranscription': [{ kind: 'output-transcription', text: 'Hello there' }],
  'server.serverContent.inputTranscription': [{ kind: 'input-transcription', text: 'what is the' }],
  'server.serverContent.interrupted': [{ kind: 'interrupted' }],
  'server.serverContent.generationComplete': [{ kind: 'generation-complete' }],
  'server.serverContent.turnComplete': [{ kind: 'usage', usage: { inputTokens: 12, outputTokens: 40 } }, { kind: 'turn-complete' }],
  'server.goAway': [{ kind: 'go-away', timeLeftMs: 9500 }],
  'server.sessionResumptionUpdate': [{ kind: 'resumption-update', handle: 'CiQ2ZDk0', resumable: true }],
  'server.sessionResumptionUpdate.notResumable': [{ kind: 'resumption-update', handle: undefined, resumable: false }],
  'server.toolCall': [{ kind: 'tool-call', calls: [{ id: 'call-1', name: 'lookup_order', args: { order: '42' } }] }],
  'server.toolCallCancellation': [{ kind: 'tool-call-cancellation', ids: ['call-1'] }],
};

describe('parseGeminiMessage on golden fixtures', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(`parses ${name}`, () => {
      const parsed = parseGeminiMessage(fixture(name));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.deepEqual(parsed.events, expected);
    });
  }

  test('one message with interrupted, audio and turnComplete gives them in the order to act on', () => {
    const parsed = parseGeminiMessage(JSON.stringify({
      serverContent: { turnComplete: true, modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm', data: 'AAA=' } }] }, interrupted: true },
    }));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.events.map((e) => e.kind), ['interrupted', 'audio', 'turn-complete']);
  });
});

describe('parseGeminiMessage on usageMetadata', () => {
  test('a malformed usageMetadata is ignored (usage undefined) and the rest of the message still acts', () => {
    for (const usageMetadata of ['lots', [], { promptTokenCount: 'x', responseTokenCount: 2 }, { promptTokenCount: 1 }, null]) {
      const parsed = parseGeminiMessage(JSON.stringify({ serverContent: { turnComplete: true }, usageMetadata }));
      assert.ok(parsed.ok, JSON.stringify(usageMetadata));
      assert.deepEqual(parsed.events, [{ kind: 'usage', usage: undefined }, { kind: 'turn-complete' }]);
    }
  });
});

describe('parseGeminiMessage on malformed input', () => {
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{nope', 'VW_ERR_BAD_JSON'],
    ['an array', '[]', 'VW_ERR_BAD_JSON'],
    ['no known field', '{"hello":1}', 'VW_ERR_UNKNOWN_EVENT'],
    ['bad base64 audio', '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"***"}}]}}}', 'VW_ERR_BAD_BASE64'],
    ['an unsupported audio rate', '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=44100","data":"AAAA"}}]}}}', 'VW_ERR_BAD_FIELD'],
    ['interrupted not a boolean', '{"serverContent":{"interrupted":"yes"}}', 'VW_ERR_BAD_FIELD'],
    ['a bad goAway duration', '{"goAway":{"timeLeft":"soon"}}', 'VW_ERR_BAD_FIELD'],
  ];
  for (const [what, text, code] of cases) {
    test(`${what} is ${code}`, () => {
      const parsed = parseGeminiMessage(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.error.code, code);
    });
  }

  test('property: any string or JSON value parses to events or a coded error, never a throw', () => {
    const json = fc.jsonValue().map((v) => JSON.stringify(v));
    const shaped = fc.record({ serverContent: fc.anything(), goAway: fc.anything(), sessionResumptionUpdate: fc.anything() }, { requiredKeys: [] }).map((v) => JSON.stringify(v));
    fc.assert(fc.property(fc.oneof(fc.string(), json, shaped), (text) => {
      const parsed = parseGeminiMessage(text);
      if (!parsed.ok) assert.match(parsed.error.code, /^VW_ERR_/);
    }), { numRuns: 500 });
  });
});

describe('Gemini client messages', () => {
  test('setup matches the golden client.setup fixture', () => {
    const text = buildSetup({ model: 'gemini-3.1-flash-live-preview', voice: 'Puck', instructions: 'Be brief.', resumptionHandle: 'CiQ2ZDk0' });
    assert.deepEqual(JSON.parse(text), JSON.parse(fixture('client.setup')));
  });

  test('tools go in setup.tools[].functionDeclarations (golden client.setup.tools)', () => {
    const tools = [{
      name: 'lookup_order', description: 'Find an order by id',
      parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
    }];
    const text = buildSetup({ model: 'gemini-3.1-flash-live-preview', voice: undefined, instructions: undefined, resumptionHandle: undefined, tools });
    assert.deepEqual(JSON.parse(text), JSON.parse(fixture('client.setup.tools')));
    const none = JSON.parse(buildSetup({ model: 'm', voice: undefined, instructions: undefined, resumptionHandle: undefined, tools: [] })) as { setup: Record<string, unknown> };
    assert.equal('tools' in none.setup, false, 'no tools: no tools field');
  });

  test('a tool result is toolResponse.functionResponses (golden client.toolResponse); a JSON-object output is the response itself', () => {
    assert.deepEqual(JSON.parse(buildToolResponse('call-1', 'lookup_order', 'shipped Friday')), JSON.parse(fixture('client.toolResponse')));
    const failure = JSON.parse(buildToolResponse('call-2', 'x', '{"error":"The tool x failed (timeout)."}')) as Record<string, unknown>;
    assert.deepEqual(failure, { toolResponse: { functionResponses: [{ id: 'call-2', name: 'x', response: { error: 'The tool x failed (timeout).' } }] } });
    // JSON that is not an object (a number, an array) is still an output.
    assert.deepEqual(JSON.parse(buildToolResponse('c', 'n', '[1,2]')), { toolResponse: { functionResponses: [{ id: 'c', name: 'n', response: { output: '[1,2]' } }] } });
  });

  test('property: any output round-trips through toolResponse (object as is, anything else as output)', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (output) => {
      const sent = JSON.parse(buildToolResponse('id', 'name', output)) as { toolResponse: { functionResponses: Array<{ response: Record<string, unknown> }> } };
      const response = sent.toolResponse.functionResponses[0]!.response;
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        parsed = undefined;
      }
      const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      assert.deepEqual(response, isObject ? parsed : { output });
    }));
  });

  test('a new session sends an empty sessionResumption (to receive handles)', () => {
    const setup = JSON.parse(buildSetup({ model: 'models/x', voice: undefined, instructions: undefined, resumptionHandle: undefined })) as { setup: Record<string, unknown> };
    assert.deepEqual(setup.setup.sessionResumption, {});
    assert.equal(setup.setup.model, 'models/x');
  });

  test('realtimeInput carries PCM16 16 kHz as base64', () => {
    assert.deepEqual(JSON.parse(buildRealtimeAudio(new Uint8Array([1, 2, 3]))), { realtimeInput: { audio: { data: 'AQID', mimeType: 'audio/pcm;rate=16000' } } });
  });

  test('a context note is a user turn that does not start a reply', () => {
    assert.deepEqual(JSON.parse(buildContextNote('heard: hi')), { clientContent: { turns: [{ role: 'user', parts: [{ text: 'heard: hi' }] }], turnComplete: false } });
  });

  test('pcmRate and durationMs', () => {
    assert.equal(pcmRate('audio/pcm;rate=16000'), 16000);
    assert.equal(pcmRate('audio/pcm'), 24000);
    assert.equal(pcmRate('audio/wav'), undefined);
    assert.equal(durationMs('30s', 'x'), 30_000);
    assert.equal(durationMs('0.25s', 'x'), 250);
  });
});
