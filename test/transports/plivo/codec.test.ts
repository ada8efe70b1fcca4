import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  MAX_MEDIA_PAYLOAD_BYTES,
  MAX_MESSAGE_CHARS,
  parsePlivoMessage,
  serializeCheckpoint,
  serializeClearAudio,
  serializePlayAudio,
  type PlivoParseResult,
} from '../../../src/transports/plivo/codec.js';
import type { PlivoInbound, PlivoMediaFormat } from '../../../src/transports/plivo/messages.js';
import { ERRORS, type ErrorCode } from '../../../src/errors.js';

interface InboundFixture {
  wire: Record<string, unknown>;
  parsed: Record<string, unknown>;
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/plivo/${name}.json`, import.meta.url), 'utf8')) as T;
}

const SID = '87654321-4321-4321-4321-cba987654321';
const options = (sampleBytes: 1 | 2 = 1): { mediaOut: Uint8Array; sampleBytes: 1 | 2 } => ({ mediaOut: new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), sampleBytes });

/** The parsed message as plain JSON data (undefined fields dropped, payload as hex). */
function plain(message: PlivoInbound): unknown {
  if (message.event !== 'media') return JSON.parse(JSON.stringify(message));
  const { payload, ...rest } = message;
  return { ...rest, payloadHex: Buffer.from(payload).toString('hex') };
}

function expectOk(result: PlivoParseResult): PlivoInbound {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.message;
}

function expectError(result: PlivoParseResult, code: ErrorCode, field?: string): void {
  assert.equal(result.ok, false, 'expected an error');
  if (result.ok) return;
  assert.equal(result.error.code, code);
  if (field !== undefined) assert.equal(result.field, field);
}

function media(overrides: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  return JSON.stringify({ event: 'media', sequenceNumber: 2, streamId: SID, media: { track: 'inbound', timestamp: '1705312200000', chunk: 1, payload: Buffer.alloc(160, 0xff).toString('base64'), ...overrides }, ...top });
}

function start(mediaFormat: Record<string, unknown>): string {
  const wire = fixture<InboundFixture>('start').wire;
  return JSON.stringify({ ...wire, start: { ...(wire['start'] as object), mediaFormat } });
}

describe('Plivo codec: golden fixtures from the docs', () => {
  for (const name of ['start', 'media', 'dtmf', 'playedStream', 'played', 'clearedAudio']) {
    test(`${name} parses to its typed message`, () => {
      const { wire, parsed } = fixture<InboundFixture>(name);
      assert.deepEqual(plain(expectOk(parsePlivoMessage(JSON.stringify(wire), options()))), parsed);
    });
  }

  test('playAudio, checkpoint and clearAudio serialise to the documented shapes', () => {
    const play = fixture<{ wire: unknown; input: { contentType: string; sampleRate: number; payloadHex: string } }>('server-playAudio');
    const format = { encoding: play.input.contentType, sampleRate: play.input.sampleRate } as PlivoMediaFormat;
    assert.deepEqual(JSON.parse(serializePlayAudio(format, Buffer.from(play.input.payloadHex, 'hex'))), play.wire);
    const checkpoint = fixture<{ wire: unknown; input: { streamId: string; name: string } }>('server-checkpoint');
    assert.deepEqual(JSON.parse(serializeCheckpoint(checkpoint.input.streamId, checkpoint.input.name)), checkpoint.wire);
    const clear = fixture<{ wire: unknown; input: { streamId: string } }>('server-clearAudio');
    assert.deepEqual(JSON.parse(serializeClearAudio(clear.input.streamId)), clear.wire);
  });

  test('serialising a slice encodes only that slice', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const text = serializePlayAudio({ encoding: 'audio/x-l16', sampleRate: 16000 }, bytes, 2, 4);
    assert.deepEqual(JSON.parse(text), { event: 'playAudio', media: { contentType: 'audio/x-l16', sampleRate: 16000, payload: Buffer.from([3, 4]).toString('base64') } });
  });
});

describe('Plivo codec: formats and counters', () => {
  test('L16 at 8 and 16 kHz and μ-law at 8 kHz are the formats; a ;rate suffix is tolerated', () => {
    for (const [encoding, sampleRate] of [['audio/x-l16', 8000], ['audio/x-l16', 16000], ['audio/x-mulaw', 8000], ['audio/x-mulaw;rate=8000', 8000]] as const) {
      const message = expectOk(parsePlivoMessage(start({ encoding, sampleRate }), options()));
      assert.equal(message.event === 'start' && message.mediaFormat.sampleRate, sampleRate);
    }
    expectError(parsePlivoMessage(start({ encoding: 'audio/x-mulaw', sampleRate: 16000 }), options()), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.sampleRate');
    expectError(parsePlivoMessage(start({ encoding: 'audio/x-l16', sampleRate: 24000 }), options()), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.sampleRate');
    expectError(parsePlivoMessage(start({ encoding: 'audio/opus', sampleRate: 8000 }), options()), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.encoding');
  });

  test('counters are numbers or digit strings; anything else is a bad field', () => {
    expectOk(parsePlivoMessage(media({ chunk: '7', timestamp: 1705312200000 }), options()));
    expectError(parsePlivoMessage(media({ chunk: -1 }), options()), 'VW_ERR_BAD_FIELD', 'media.chunk');
    expectError(parsePlivoMessage(media({ timestamp: '12a' }), options()), 'VW_ERR_BAD_FIELD', 'media.timestamp');
    expectError(parsePlivoMessage(media({}, { sequenceNumber: 1.5 }), options()), 'VW_ERR_BAD_FIELD', 'sequenceNumber');
  });

  test('an L16 payload of an odd length is not whole samples', () => {
    const odd = media({ payload: Buffer.alloc(321).toString('base64') });
    expectOk(parsePlivoMessage(odd, options(1)));
    expectError(parsePlivoMessage(odd, options(2)), 'VW_ERR_BAD_PAYLOAD_SIZE');
  });
});

describe('Plivo codec: malformed input is a coded error', () => {
  const cases: Array<[string, string, ErrorCode, string?]> = [
    ['not JSON', '{"event":', 'VW_ERR_BAD_JSON'],
    ['an array', '[1,2]', 'VW_ERR_BAD_JSON'],
    ['no event', '{"streamId":"a"}', 'VW_ERR_BAD_FIELD', 'event'],
    ['an unknown event', '{"event":"hangup"}', 'VW_ERR_UNKNOWN_EVENT'],
    ['media without streamId', media({}, { streamId: undefined }), 'VW_ERR_BAD_FIELD', 'streamId'],
    ['a streamId with spaces', media({}, { streamId: 'a b' }), 'VW_ERR_BAD_FIELD', 'streamId'],
    ['bad base64', media({ payload: '!!!!' }), 'VW_ERR_BAD_BASE64'],
    ['an empty payload', media({ payload: '' }), 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['a payload over 1 s', media({ payload: Buffer.alloc(MAX_MEDIA_PAYLOAD_BYTES + 3).toString('base64') }), 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['a dtmf that is not a key', JSON.stringify({ event: 'dtmf', streamId: SID, dtmf: { digit: 'x' } }), 'VW_ERR_BAD_FIELD', 'dtmf.digit'],
    ['playedStream without a name', JSON.stringify({ event: 'playedStream', streamId: SID }), 'VW_ERR_BAD_FIELD', 'name'],
    ['start without mediaFormat', JSON.stringify({ event: 'start', start: { callId: 'a', streamId: 'b', accountId: 'c', tracks: ['inbound'] } }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat'],
  ];
  for (const [what, text, code, field] of cases) {
    test(`${what} → ${code}`, () => expectError(parsePlivoMessage(text, options()), code, field));
  }

  test('a message over the size limit is refused before parsing', () => {
    expectError(parsePlivoMessage(' '.repeat(MAX_MESSAGE_CHARS + 1), options()), 'VW_ERR_MESSAGE_TOO_LARGE');
  });
});

describe('Plivo codec: properties', () => {
  const goldens = ['start', 'media', 'dtmf', 'playedStream', 'clearedAudio'].map((n) => fixture<InboundFixture>(n).wire);

  test('10 000 fuzzed messages: never a throw, always a typed message or a coded error', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const mutated = fc.tuple(fc.constantFrom(...goldens), fc.array(fc.tuple(fc.constantFrom('event', 'streamId', 'sequenceNumber', 'media', 'start', 'name', 'dtmf', 'payload', 'chunk', 'mediaFormat'), leaf), { maxLength: 4 }))
      .map(([base, edits]) => {
        const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
        for (const [key, value] of edits) {
          const inner = copy['media'] ?? copy['start'];
          if (typeof inner === 'object' && inner !== null && (key === 'payload' || key === 'chunk' || key === 'mediaFormat')) (inner as Record<string, unknown>)[key] = value;
          else copy[key] = value;
        }
        return JSON.stringify(copy);
      });
    const arbitrary = fc.oneof(mutated, fc.json(), fc.string({ maxLength: 300 }), fc.jsonValue().map((v) => JSON.stringify({ event: 'media', streamId: SID, media: v })));
    let ok = 0;
    fc.assert(
      fc.property(arbitrary, (text) => {
        const result = parsePlivoMessage(text, options());
        if (result.ok) ok++;
        else assert.ok(result.error.code in ERRORS, result.error.code);
      }),
      { numRuns: 10_000 },
    );
    assert.ok(ok > 0, 'some fuzzed messages are still valid');
  });

  test('a payload round-trips through base64 for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (bytes) => {
        const out = expectOk(parsePlivoMessage(media({ payload: Buffer.from(bytes).toString('base64') }), options()));
        assert.deepEqual(out.event === 'media' && Buffer.from(out.payload), Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
