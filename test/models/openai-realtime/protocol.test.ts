/**
 * The Realtime codec against golden fixtures (test/fixtures/openai). The fixtures are written from
 * openai-node's GA types (src/resources/realtime/realtime.ts) and, for errors, from texts the real
 * API sent in public bug reports; they are not captures of live traffic.
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import {
  buildAppend, buildFunctionCallOutput, buildResponseCancel, buildResponseCreate, buildSessionUpdate, buildTruncate,
  DEFAULT_TURN_DETECTION, parseServerEvent, SERVER_EVENT_FIELDS, serializeClientEvent, type ServerEventType,
  serializeAppend,
} from '../../../src/models/openai-realtime/protocol.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/openai');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

const serverFixtures = readdirSync(FIXTURES)
  .filter((f) => f.startsWith('server.'))
  .map((f) => f.slice(0, -'.json'.length));

describe('parseServerEvent on golden fixtures', () => {
  for (const name of serverFixtures) {
    test(`parses ${name} as a typed event equal to the fixture`, () => {
      const raw = fixture(name);
      const parsed = parseServerEvent(JSON.stringify(raw));
      assert.equal(parsed.kind, 'event');
      if (parsed.kind !== 'event') return;
      assert.equal(parsed.event.type, raw.type);
      assert.deepEqual(parsed.event, raw);
    });
  }

  test('every event type the codec knows has a fixture', () => {
    const covered = new Set(serverFixtures.map((name) => fixture(name).type));
    const optional = new Set([
      'input_audio_buffer.cleared', 'input_audio_buffer.timeout_triggered', 'conversation.item.done',
      'conversation.item.created', 'conversation.item.deleted',
    ]);
    for (const type of Object.keys(SERVER_EVENT_FIELDS)) {
      if (!optional.has(type)) assert.ok(covered.has(type), `no fixture for ${type}`);
    }
  });

  test('typed fields are usable without casts', () => {
    const parsed = parseServerEvent(JSON.stringify(fixture('server.response.done.cancelled')));
    assert.ok(parsed.kind === 'event' && parsed.event.type === 'response.done');
    assert.equal(parsed.event.response.status, 'cancelled');
    assert.deepEqual(parsed.event.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
  });
});

describe('parseServerEvent on bad input', () => {
  test('malformed JSON is VW_ERR_BAD_JSON', () => {
    const parsed = parseServerEvent('{"type": "response.done", ');
    assert.ok(parsed.kind === 'invalid' && isVoicewireError(parsed.error, 'VW_ERR_BAD_JSON'));
  });

  test('JSON without a string type is VW_ERR_BAD_FIELD(type)', () => {
    for (const text of ['[]', '42', 'null', '"x"', '{}', '{"type": 7}']) {
      const parsed = parseServerEvent(text);
      assert.ok(parsed.kind === 'invalid' && isVoicewireError(parsed.error, 'VW_ERR_BAD_FIELD'), text);
    }
  });

  test('a known event missing a required field names the field', () => {
    const raw = fixture('server.response.output_audio.delta');
    delete raw.item_id;
    const parsed = parseServerEvent(JSON.stringify(raw));
    assert.ok(parsed.kind === 'invalid');
    assert.equal(parsed.error.code, 'VW_ERR_BAD_FIELD');
    assert.match(parsed.error.message, /response\.output_audio\.delta: item_id/);
  });

  test('a nested required field is checked (response.done without response.status)', () => {
    const raw = fixture('server.response.done');
    delete (raw.response as Record<string, unknown>).status;
    const parsed = parseServerEvent(JSON.stringify(raw));
    assert.ok(parsed.kind === 'invalid' && parsed.error.code === 'VW_ERR_BAD_FIELD');
  });

  test('optional fields accept null (error.code null, as the real truncate error sends)', () => {
    const parsed = parseServerEvent(JSON.stringify(fixture('server.error.truncate_too_long')));
    assert.ok(parsed.kind === 'event' && parsed.event.type === 'error');
    assert.equal(parsed.event.error.code, null);
  });

  test('an unknown but well-formed type is reported as unknown, not invalid', () => {
    const parsed = parseServerEvent('{"type":"response.mcp_call.in_progress","item_id":"x"}');
    assert.deepEqual(parsed, { kind: 'unknown', type: 'response.mcp_call.in_progress' });
  });

  test('beta event names are unknown (the GA names replaced them)', () => {
    const parsed = parseServerEvent('{"type":"response.audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":""}');
    assert.equal(parsed.kind, 'unknown');
  });

  test('property: arbitrary text never throws and always yields one of the three kinds', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseServerEvent(text);
        assert.ok(['event', 'unknown', 'invalid'].includes(parsed.kind));
      }),
      { numRuns: 500 },
    );
  });

  test('property: arbitrary JSON (with a known type or not) never throws; invalid results are coded', () => {
    const types = fc.constantFrom(...(Object.keys(SERVER_EVENT_FIELDS) as ServerEventType[]), 'other.type');
    fc.assert(
      fc.property(types, fc.dictionary(fc.string(), fc.jsonValue()), (type, fields) => {
        const parsed = parseServerEvent(JSON.stringify({ ...fields, type }));
        if (parsed.kind === 'invalid') assert.ok(parsed.error.code === 'VW_ERR_BAD_FIELD');
        if (parsed.kind === 'event') assert.equal(parsed.event.type, type);
      }),
      { numRuns: 1000 },
    );
  });

  test('property: a fixture with one field replaced by arbitrary JSON parses or fails coded, never throws', () => {
    const names = fc.constantFrom(...serverFixtures);
    fc.assert(
      fc.property(names, fc.nat(), fc.jsonValue(), (name, index, value) => {
        const raw = fixture(name);
        const keys = Object.keys(raw).filter((k) => k !== 'type');
        if (keys.length === 0) return;
        raw[keys[index % keys.length]!] = value;
        const parsed = parseServerEvent(JSON.stringify(raw));
        assert.ok(parsed.kind === 'event' || (parsed.kind === 'invalid' && parsed.error.code === 'VW_ERR_BAD_FIELD'));
      }),
      { numRuns: 500 },
    );
  });

  test('property: valid audio deltas round-trip through JSON unchanged', () => {
    const delta = fc.record({
      type: fc.constant('response.output_audio.delta' as const),
      event_id: fc.string(),
      response_id: fc.string({ minLength: 1 }),
      item_id: fc.string({ minLength: 1 }),
      output_index: fc.nat(),
      content_index: fc.nat(),
      delta: fc.base64String(),
    });
    fc.assert(
      fc.property(delta, (event) => {
        const parsed = parseServerEvent(JSON.stringify(event));
        assert.deepEqual(parsed, { kind: 'event', event: { ...event } }); // fc.record objects have a null prototype
      }),
    );
  });
});

describe('client event builders', () => {
  test('session.update in GA shape for μ-law matches the golden fixture', () => {
    const event = buildSessionUpdate(
      { instructions: 'You are a helpful assistant.', voice: 'marin', inputFormat: 'pcmu', outputFormat: 'pcmu', turnDetection: DEFAULT_TURN_DETECTION },
      'vw_1',
    );
    assert.deepEqual(JSON.parse(serializeClientEvent(event)), fixture('client.session.update.pcmu'));
  });

  test('session.update for PCM16 24 kHz matches the golden fixture and omits absent instructions', () => {
    const event = buildSessionUpdate({ voice: 'cedar', inputFormat: 'pcm24k', outputFormat: 'pcm24k', turnDetection: DEFAULT_TURN_DETECTION }, 'vw_1');
    const json = JSON.parse(serializeClientEvent(event)) as { session: Record<string, unknown> };
    assert.deepEqual(json, fixture('client.session.update.pcm24k'));
    assert.equal('instructions' in json.session, false);
  });

  test('session.update never carries beta fields at the session top level', () => {
    const event = buildSessionUpdate({ voice: 'marin', inputFormat: 'pcmu', outputFormat: 'pcmu', turnDetection: null });
    const keys = Object.keys(event.session).sort();
    assert.deepEqual(keys, ['audio', 'output_modalities', 'type']);
    assert.equal(event.session.audio.input.turn_detection, null);
  });

  test('append, cancel and truncate match their golden fixtures', () => {
    assert.deepEqual(buildAppend(Buffer.alloc(16, 0xff).toString('base64')), fixture('client.input_audio_buffer.append'));
    assert.deepEqual(buildResponseCancel('resp_C9G8ZgzWrq1vbzGzuPnkj', 'vw_7'), fixture('client.response.cancel'));
    assert.deepEqual(buildTruncate('item_C9G8aOjbYpKDZGYqOG5Tw', 1500.4, 'vw_8'), fixture('client.conversation.item.truncate'));
  });

  test('session.update with tools and input transcription matches the golden fixture', () => {
    const event = buildSessionUpdate(
      {
        instructions: 'You are the order desk of Acme.', voice: 'cedar', inputFormat: 'pcmu', outputFormat: 'pcmu', turnDetection: DEFAULT_TURN_DETECTION,
        transcribeModel: 'gpt-4o-mini-transcribe',
        tools: [{
          name: 'lookup_order', description: 'Look up an order by its id.',
          parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
        }],
      },
      'vw_1',
    );
    assert.deepEqual(JSON.parse(serializeClientEvent(event)), fixture('client.session.update.tools'));
  });

  test('an empty tool list sends neither tools nor tool_choice', () => {
    const event = buildSessionUpdate({ voice: 'marin', inputFormat: 'pcmu', outputFormat: 'pcmu', turnDetection: null, tools: [] });
    assert.equal('tools' in event.session, false);
    assert.equal('tool_choice' in event.session, false);
  });

  test('function_call_output and response.create match their golden fixtures', () => {
    assert.deepEqual(buildFunctionCallOutput('call_Xq7b2kLmN9pQrS4t', '{"status":"shipped","eta":"Friday"}', 'vw_9'), fixture('client.conversation.item.create.function_call_output'));
    assert.deepEqual(buildResponseCreate('vw_10'), fixture('client.response.create'));
    assert.deepEqual(buildResponseCreate(undefined, 'Say hi'), { type: 'response.create', response: { instructions: 'Say hi' } });
  });

  test('cancel without an id has no response_id field', () => {
    assert.deepEqual(buildResponseCancel(), { type: 'response.cancel' });
  });

  test('property: truncate audio_end_ms is always a non-negative integer', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), (ms) => {
        const event = buildTruncate('item', ms);
        assert.ok(Number.isInteger(event.audio_end_ms) && event.audio_end_ms >= 0);
        assert.equal(event.audio_end_ms, Math.max(0, Math.round(ms)));
      }),
    );
  });

  test('truncate with a non-finite position is VW_ERR_INVALID_SIZE', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      assert.throws(() => buildTruncate('item', bad), (err: unknown) => isVoicewireError(err, 'VW_ERR_INVALID_SIZE'));
    }
  });
});

describe('serializeAppend (the template for input_audio_buffer.append)', () => {
  test('property: the same text as serializeClientEvent(buildAppend(base64)) for any audio', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const audio = Buffer.from(bytes).toString('base64');
        assert.equal(serializeAppend(audio), serializeClientEvent(buildAppend(audio)));
      }),
      { numRuns: 300 },
    );
  });
});
