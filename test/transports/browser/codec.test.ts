import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  CLIENT_MESSAGE_TYPES,
  MAX_CONTROL_BYTES,
  SERVER_MESSAGE_TYPES,
  decodeClientMessage,
  decodeServerMessage,
  encodeControl,
  errorMessageFor,
  utf8Length,
  type ClientMessage,
  type ControlResult,
  type ServerMessage,
} from '../../../src/transports/browser/codec.js';
import { vwError, type ErrorCode } from '../../../src/errors.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nonNegative = fc.double({ min: 0, max: 0xffffffff, noNaN: true, noDefaultInfinity: true }).map((x) => Math.abs(x));
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
const rate = fc.constantFrom(16000 as const, 24000 as const);
const anyText = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength: max }).filter((s) => s.length <= max);

const parameters = fc
  .dictionary(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), anyText(256), { maxKeys: 16 })
  .map((d) => ({ ...d }));

const hello: fc.Arbitrary<ClientMessage> = fc
  .record(
    {
      playbackRate: rate,
      micRate: rate,
      windowMs: fc.double({ min: 0.001, max: 60_000, noNaN: true }),
      parameters,
    },
    { requiredKeys: [] },
  )
  .map((r) => ({ type: 'hello' as const, version: 1, ...r }));

const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  hello,
  fc.record({ type: fc.constant('played' as const), epoch: u32, playedMs: nonNegative }),
  fc.record({ type: fc.constant('sentence_played' as const), epoch: u32, sentenceId: u32 }),
  fc.record({ type: fc.constant('ping' as const), id: u32, t: finite }),
  fc.record({ type: fc.constant('pong' as const), id: u32, t: finite }),
  fc.record({ type: fc.constant('bye' as const), reason: anyText(123) }, { requiredKeys: ['type'] }),
);

const pcm = rate.map((sampleRate) => ({ encoding: 'pcm16' as const, sampleRate }));
const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('ready' as const),
    version: fc.constant(1),
    sessionId: anyText(123).filter((s) => s.length > 0),
    playback: pcm,
    mic: pcm,
    epoch: u32,
    windowMs: fc.integer({ min: 1, max: 0xffffffff }),
    heartbeatMs: u32,
    maxMicFrameMs: fc.integer({ min: 1, max: 0xffffffff }),
  }),
  fc.record({ type: fc.constant('sentence_end' as const), epoch: u32, sentenceId: u32 }),
  fc.record({ type: fc.constant('clear' as const), epoch: u32 }),
  fc.record({ type: fc.constant('transcript' as const), role: fc.constantFrom('user' as const, 'assistant' as const), text: anyText(1000), final: fc.boolean() }),
  fc.record({ type: fc.constant('state' as const), state: fc.constantFrom('listening' as const, 'thinking' as const, 'speaking' as const) }),
  fc.record(
    { type: fc.constant('stats' as const), creditMs: nonNegative, windowMs: nonNegative, serverBufferedMs: nonNegative, inFlightMs: nonNegative, lastBargeInMs: nonNegative, rttMs: nonNegative },
    { requiredKeys: ['type', 'creditMs', 'windowMs', 'serverBufferedMs'] },
  ),
  fc.record(
    { type: fc.constant('error' as const), code: anyText(123).filter((s) => s.length > 0), message: anyText(1000), detail: anyText(123) },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
  fc.record({ type: fc.constant('ping' as const), id: u32, t: finite }),
  fc.record({ type: fc.constant('pong' as const), id: u32, t: finite }),
);

function expectError<T>(result: ControlResult<T>, code: ErrorCode, detail?: string): void {
  assert.equal(result.ok, false, `expected ${code}, got a message`);
  if (result.ok) return;
  assert.equal(result.error.code, code, `expected ${code}, got ${result.error.code} (${result.error.message})`);
  if (detail !== undefined) assert.equal(result.detail, detail);
}

describe('browser codec: control messages', () => {
  test('every client message kind round-trips through JSON (or is refused as too large)', () => {
    fc.assert(
      fc.property(clientMessage, (message) => {
        const text = encodeControl(message);
        const result = decodeClientMessage(text);
        if (utf8Length(text) > MAX_CONTROL_BYTES) return expectError(result, 'VW_ERR_MESSAGE_TOO_LARGE');
        assert.ok(result.ok, result.ok ? '' : result.error.message);
        // structuredClone gives fast-check's prototype-less records the ordinary prototype.
        assert.deepEqual(result.message, structuredClone(message));
      }),
      { numRuns: 500 },
    );
  });

  test('every server message kind round-trips through JSON (or is refused as too large)', () => {
    fc.assert(
      fc.property(serverMessage, (message) => {
        const text = encodeControl(message);
        const result = decodeServerMessage(text);
        if (utf8Length(text) > MAX_CONTROL_BYTES) return expectError(result, 'VW_ERR_MESSAGE_TOO_LARGE');
        assert.ok(result.ok, result.ok ? '' : result.error.message);
        // structuredClone gives fast-check's prototype-less records the ordinary prototype.
        assert.deepEqual(result.message, structuredClone(message));
      }),
      { numRuns: 500 },
    );
  });

  test('text and its UTF-8 bytes decode the same way', () => {
    fc.assert(
      fc.property(fc.oneof(clientMessage.map(encodeControl), fc.string({ unit: 'grapheme', maxLength: 200 })), (text) => {
        assert.deepEqual(decodeClientMessage(new TextEncoder().encode(text)), decodeClientMessage(text));
      }),
    );
  });

  test('utf8Length agrees with TextEncoder for well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (text) => {
        assert.equal(utf8Length(text), new TextEncoder().encode(text).length);
      }),
    );
  });

  test('arbitrary text, bytes and JSON never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        decodeClientMessage(text);
        decodeServerMessage(text);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeClientMessage(bytes);
        decodeServerMessage(bytes);
      }),
    );
  });

  test('a known type with arbitrary fields never throws, and what decodes re-encodes to itself', () => {
    const types = [...new Set<string>([...CLIENT_MESSAGE_TYPES, ...SERVER_MESSAGE_TYPES])];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })), (type, fields) => {
        const text = JSON.stringify({ ...fields, type });
        for (const result of [decodeClientMessage(text), decodeServerMessage(text)]) {
          if (!result.ok) {
            assert.ok(['VW_ERR_BAD_FIELD', 'VW_ERR_UNKNOWN_EVENT', 'VW_ERR_PROTOCOL_VERSION', 'VW_ERR_MESSAGE_TOO_LARGE'].includes(result.error.code));
            continue;
          }
          assert.deepEqual(JSON.parse(encodeControl(result.message)), result.message);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('the size bound is 4096 UTF-8 bytes, not characters', () => {
    const base = '{"type":"ping","id":1,"t":0}';
    assert.ok(decodeClientMessage(base + ' '.repeat(MAX_CONTROL_BYTES - base.length)).ok);
    expectError(decodeClientMessage(base + ' '.repeat(MAX_CONTROL_BYTES - base.length + 1)), 'VW_ERR_MESSAGE_TOO_LARGE');
    // 2-byte characters: under 4096 characters but over 4096 bytes.
    const wide = `{"type":"bye","reason":"x","pad":"${'é'.repeat(2100)}"}`;
    assert.ok(wide.length < MAX_CONTROL_BYTES);
    expectError(decodeClientMessage(wide), 'VW_ERR_MESSAGE_TOO_LARGE');
    expectError(decodeClientMessage(new TextEncoder().encode(wide)), 'VW_ERR_MESSAGE_TOO_LARGE');
  });
});

describe('browser codec: every malformed client message gets its specific error', () => {
  const cases: Array<[string, string | Uint8Array, ErrorCode, string?]> = [
    ['not JSON', 'nope', 'VW_ERR_BAD_JSON'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'VW_ERR_BAD_JSON'],
    ['an array', '[1,2]', 'VW_ERR_BAD_JSON'],
    ['null', 'null', 'VW_ERR_BAD_JSON'],
    ['no type', '{}', 'VW_ERR_BAD_FIELD', 'type'],
    ['a numeric type', '{"type":5}', 'VW_ERR_BAD_FIELD', 'type'],
    ['an empty type', '{"type":""}', 'VW_ERR_BAD_FIELD', 'type'],
    ['an unknown type', '{"type":"dance"}', 'VW_ERR_UNKNOWN_EVENT', 'dance'],
    ['a server-only type', '{"type":"clear","epoch":1}', 'VW_ERR_UNKNOWN_EVENT', 'clear'],
    ['hello without version', '{"type":"hello"}', 'VW_ERR_BAD_FIELD', 'version'],
    ['hello with a string version', '{"type":"hello","version":"1"}', 'VW_ERR_BAD_FIELD', 'version'],
    ['hello with a fractional version', '{"type":"hello","version":1.5}', 'VW_ERR_BAD_FIELD', 'version'],
    ['hello of another version', '{"type":"hello","version":2,"playbackRate":"whatever"}', 'VW_ERR_PROTOCOL_VERSION', 'version'],
    ['hello with an unsupported playback rate', '{"type":"hello","version":1,"playbackRate":48000}', 'VW_ERR_BAD_FIELD', 'playbackRate'],
    ['hello with a string mic rate', '{"type":"hello","version":1,"micRate":"16000"}', 'VW_ERR_BAD_FIELD', 'micRate'],
    ['hello with a zero window', '{"type":"hello","version":1,"windowMs":0}', 'VW_ERR_BAD_FIELD', 'windowMs'],
    ['hello with a negative window', '{"type":"hello","version":1,"windowMs":-5}', 'VW_ERR_BAD_FIELD', 'windowMs'],
    ['hello with a huge window', '{"type":"hello","version":1,"windowMs":1e9}', 'VW_ERR_BAD_FIELD', 'windowMs'],
    ['hello with array parameters', '{"type":"hello","version":1,"parameters":[]}', 'VW_ERR_BAD_FIELD', 'parameters'],
    ['hello with a bad parameter name', '{"type":"hello","version":1,"parameters":{"a b":"x"}}', 'VW_ERR_BAD_FIELD', 'parameters.a b'],
    ['hello with a numeric parameter', '{"type":"hello","version":1,"parameters":{"a":1}}', 'VW_ERR_BAD_FIELD', 'parameters.a'],
    [
      'hello with 17 parameters',
      JSON.stringify({ type: 'hello', version: 1, parameters: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`p${i}`, 'x'])) }),
      'VW_ERR_BAD_FIELD',
      'parameters',
    ],
    ['played with a negative epoch', '{"type":"played","epoch":-1,"playedMs":0}', 'VW_ERR_BAD_FIELD', 'epoch'],
    ['played with a fractional epoch', '{"type":"played","epoch":1.5,"playedMs":0}', 'VW_ERR_BAD_FIELD', 'epoch'],
    ['played with an epoch over u32', '{"type":"played","epoch":4294967296,"playedMs":0}', 'VW_ERR_BAD_FIELD', 'epoch'],
    ['played without playedMs', '{"type":"played","epoch":0}', 'VW_ERR_BAD_FIELD', 'playedMs'],
    ['played with a string position', '{"type":"played","epoch":0,"playedMs":"5"}', 'VW_ERR_BAD_FIELD', 'playedMs'],
    ['played with a negative position', '{"type":"played","epoch":0,"playedMs":-1}', 'VW_ERR_BAD_FIELD', 'playedMs'],
    ['sentence_played without sentenceId', '{"type":"sentence_played","epoch":0}', 'VW_ERR_BAD_FIELD', 'sentenceId'],
    ['ping without id', '{"type":"ping","t":0}', 'VW_ERR_BAD_FIELD', 'id'],
    ['pong with a string t', '{"type":"pong","id":1,"t":"x"}', 'VW_ERR_BAD_FIELD', 't'],
    ['bye with a numeric reason', '{"type":"bye","reason":5}', 'VW_ERR_BAD_FIELD', 'reason'],
    ['bye with a long reason', JSON.stringify({ type: 'bye', reason: 'x'.repeat(124) }), 'VW_ERR_BAD_FIELD', 'reason'],
    ['over 4 KiB', JSON.stringify({ type: 'ping', id: 1, t: 0, pad: 'x'.repeat(5000) }), 'VW_ERR_MESSAGE_TOO_LARGE'],
  ];
  for (const [name, input, code, detail] of cases) {
    test(`${name}: ${code}${detail === undefined ? '' : ` (${detail})`}`, () => expectError(decodeClientMessage(input), code, detail));
  }

  test('a "__proto__" parameter stays an own property and does not touch the prototype', () => {
    const result = decodeClientMessage('{"type":"hello","version":1,"parameters":{"__proto__":"x"}}');
    assert.ok(result.ok && result.message.type === 'hello');
    const params = result.message.parameters!;
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.deepEqual(Object.keys(params), ['__proto__']);
  });

  test('unknown extra fields are ignored', () => {
    const result = decodeClientMessage('{"type":"played","epoch":2,"playedMs":40,"future":true}');
    assert.deepEqual(result, { ok: true, message: { type: 'played', epoch: 2, playedMs: 40 } });
  });
});

describe('browser codec: every malformed server message gets its specific error', () => {
  const ready = { type: 'ready', version: 1, sessionId: 's', playback: { encoding: 'pcm16', sampleRate: 24000 }, mic: { encoding: 'pcm16', sampleRate: 16000 }, epoch: 0, windowMs: 800, heartbeatMs: 10000, maxMicFrameMs: 100 };
  const cases: Array<[string, unknown, ErrorCode, string?]> = [
    ['a client-only type', { type: 'hello', version: 1 }, 'VW_ERR_UNKNOWN_EVENT', 'hello'],
    ['ready of another version', { ...ready, version: 3 }, 'VW_ERR_PROTOCOL_VERSION', 'version'],
    ['ready without sessionId', { ...ready, sessionId: undefined }, 'VW_ERR_BAD_FIELD', 'sessionId'],
    ['ready with an empty sessionId', { ...ready, sessionId: '' }, 'VW_ERR_BAD_FIELD', 'sessionId'],
    ['ready with μ-law playback', { ...ready, playback: { encoding: 'pcmu', sampleRate: 8000 } }, 'VW_ERR_BAD_FIELD', 'playback.encoding'],
    ['ready with a 48 kHz mic', { ...ready, mic: { encoding: 'pcm16', sampleRate: 48000 } }, 'VW_ERR_BAD_FIELD', 'mic.sampleRate'],
    ['ready with a zero window', { ...ready, windowMs: 0 }, 'VW_ERR_BAD_FIELD', 'windowMs'],
    ['ready without heartbeatMs', { ...ready, heartbeatMs: undefined }, 'VW_ERR_BAD_FIELD', 'heartbeatMs'],
    ['ready with a zero mic frame bound', { ...ready, maxMicFrameMs: 0 }, 'VW_ERR_BAD_FIELD', 'maxMicFrameMs'],
    ['clear without epoch', { type: 'clear' }, 'VW_ERR_BAD_FIELD', 'epoch'],
    ['sentence_end with a negative id', { type: 'sentence_end', epoch: 0, sentenceId: -1 }, 'VW_ERR_BAD_FIELD', 'sentenceId'],
    ['transcript with another role', { type: 'transcript', role: 'system', text: 'x', final: true }, 'VW_ERR_BAD_FIELD', 'role'],
    ['transcript without final', { type: 'transcript', role: 'user', text: 'x' }, 'VW_ERR_BAD_FIELD', 'final'],
    ['transcript over 1000 characters', { type: 'transcript', role: 'user', text: 'x'.repeat(1001), final: true }, 'VW_ERR_BAD_FIELD', 'text'],
    ['state of another kind', { type: 'state', state: 'dancing' }, 'VW_ERR_BAD_FIELD', 'state'],
    ['stats with negative credit', { type: 'stats', creditMs: -1, windowMs: 800, serverBufferedMs: 0 }, 'VW_ERR_BAD_FIELD', 'creditMs'],
    ['stats with a string rtt', { type: 'stats', creditMs: 1, windowMs: 800, serverBufferedMs: 0, rttMs: '5' }, 'VW_ERR_BAD_FIELD', 'rttMs'],
    ['error without code', { type: 'error', message: 'm' }, 'VW_ERR_BAD_FIELD', 'code'],
    ['error with a numeric detail', { type: 'error', code: 'X', message: 'm', detail: 1 }, 'VW_ERR_BAD_FIELD', 'detail'],
  ];
  for (const [name, wire, code, detail] of cases) {
    test(`${name}: ${code}${detail === undefined ? '' : ` (${detail})`}`, () => expectError(decodeServerMessage(JSON.stringify(wire)), code, detail));
  }

  test('errorMessageFor carries the code, the message and the detail', () => {
    assert.deepEqual(errorMessageFor(vwError('VW_ERR_BAD_FIELD', 'epoch'), 'epoch'), {
      type: 'error', code: 'VW_ERR_BAD_FIELD', message: 'bad or missing field epoch', detail: 'epoch',
    });
    const long = errorMessageFor(vwError('VW_ERR_BAD_FIELD', 'x'.repeat(2000)), 'y'.repeat(500));
    assert.ok(decodeServerMessage(encodeControl(long)).ok, 'long errors are cut to fit the bounds');
  });
});

describe('docs/browser-protocol.md', () => {
  test('every JSON example in the reference decodes', () => {
    const doc = readFileSync(new URL('../../../docs/browser-protocol.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    assert.ok(blocks.length >= 12, `expected examples for every message, found ${blocks.length}`);
    const clientTypes = new Set<string>(CLIENT_MESSAGE_TYPES);
    const serverTypes = new Set<string>(SERVER_MESSAGE_TYPES);
    const seen = new Set<string>();
    for (const block of blocks) {
      const type = (JSON.parse(block) as { type: string }).type;
      seen.add(type);
      if (clientTypes.has(type)) assert.ok(decodeClientMessage(block).ok, `client example ${block}`);
      if (serverTypes.has(type)) assert.ok(decodeServerMessage(block).ok, `server example ${block}`);
    }
    for (const type of [...clientTypes, ...serverTypes]) assert.ok(seen.has(type), `no example of ${type}`);
  });
});
