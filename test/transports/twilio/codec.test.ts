import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  MAX_MEDIA_PAYLOAD_BYTES,
  MAX_MESSAGE_CHARS,
  parseTwilioMessage,
  serializeClear,
  serializeMark,
  serializeMedia,
  serializeTwilioInbound,
  type TwilioParseResult,
} from '../../../src/transports/twilio/codec.js';
import type { TwilioInbound } from '../../../src/transports/twilio/messages.js';
import type { ErrorCode } from '../../../src/errors.js';

/** Any UTF-16 text, lone surrogates and control characters included (fast, unlike unit 'binary'). */
function anyText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));
}

interface InboundFixture {
  wire: Record<string, unknown>;
  parsed: Record<string, unknown> & { payloadHex?: string };
}
interface OutboundFixture {
  wire: Record<string, unknown>;
  input: { streamSid: string; payloadHex?: string; name?: string };
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/twilio/${name}.json`, import.meta.url), 'utf8')) as T;
}

const INBOUND = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop'] as const;
const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';

function buffer(): Uint8Array {
  return new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES);
}

/** The parsed message as plain data, with the payload as hex (the fixtures' form). */
function plain(message: TwilioInbound): Record<string, unknown> {
  // Spreads also normalise prototypes (fast-check dictionaries have none).
  if (message.event === 'start') return { ...message, customParameters: { ...message.customParameters } };
  if (message.event !== 'media') return { ...message };
  const { payload, ...rest } = message;
  return { ...rest, payloadHex: Buffer.from(payload).toString('hex') };
}

function expectOk(result: TwilioParseResult): TwilioInbound {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.message;
}

function expectError(result: TwilioParseResult, code: ErrorCode, field?: string): void {
  assert.equal(result.ok, false, 'expected an error');
  if (result.ok) return;
  assert.equal(result.error.code, code);
  if (field !== undefined) assert.equal(result.field, field);
}

function mediaWire(overrides: { media?: Record<string, unknown>; top?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '20', payload: Buffer.alloc(160, 0xff).toString('base64'), ...overrides.media },
    streamSid: SID,
    ...overrides.top,
  });
}

function startWire(start: Record<string, unknown> = {}, mediaFormat: Record<string, unknown> = {}): string {
  const base = fixture<InboundFixture>('start').wire;
  const baseStart = base['start'] as Record<string, unknown>;
  return JSON.stringify({
    ...base,
    start: { ...baseStart, mediaFormat: { ...(baseStart['mediaFormat'] as object), ...mediaFormat }, ...start },
  });
}

void describe('Twilio codec: golden fixtures', () => {
  for (const name of INBOUND) {
    void test(`the documented ${name} message parses to its typed form`, () => {
      const { wire, parsed } = fixture<InboundFixture>(name);
      assert.deepEqual(plain(expectOk(parseTwilioMessage(JSON.stringify(wire), buffer()))), parsed);
    });

    void test(`the ${name} message serialises back to the documented JSON`, () => {
      const { wire } = fixture<InboundFixture>(name);
      const message = expectOk(parseTwilioMessage(JSON.stringify(wire), buffer()));
      assert.deepEqual(JSON.parse(serializeTwilioInbound(message)), wire);
    });
  }

  void test('server media, mark and clear are byte-for-byte the documented JSON', () => {
    const media = fixture<OutboundFixture>('server-media');
    const bytes = Buffer.from(media.input.payloadHex ?? '', 'hex');
    assert.equal(serializeMedia(media.input.streamSid, bytes), JSON.stringify(media.wire));
    const mark = fixture<OutboundFixture>('server-mark');
    assert.equal(serializeMark(mark.input.streamSid, mark.input.name ?? ''), JSON.stringify(mark.wire));
    const clear = fixture<OutboundFixture>('server-clear');
    assert.equal(serializeClear(clear.input.streamSid), JSON.stringify(clear.wire));
  });

  void test('serializeMedia sends only bytes[start, end)', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const wire = JSON.parse(serializeMedia(SID, bytes, 2, 5)) as { media: { payload: string } };
    assert.deepEqual([...Buffer.from(wire.media.payload, 'base64')], [3, 4, 5]);
  });

  void test('a media payload is a view of the caller buffer, overwritten by the next parse', () => {
    const out = buffer();
    const first = expectOk(parseTwilioMessage(mediaWire({ media: { payload: Buffer.alloc(160, 1).toString('base64') } }), out));
    assert.equal(first.event, 'media');
    if (first.event !== 'media') return;
    assert.equal(first.payload.buffer, out.buffer);
    expectOk(parseTwilioMessage(mediaWire({ media: { payload: Buffer.alloc(160, 2).toString('base64') } }), out));
    assert.equal(first.payload[0], 2);
  });
});

void describe('Twilio codec: malformed input gets its specific code', () => {
  const cases: Array<[string, string, ErrorCode, string?]> = [
    ['text that is not JSON', '{"event":"media",', 'VW_ERR_BAD_JSON'],
    ['a JSON array', '[]', 'VW_ERR_BAD_JSON'],
    ['a JSON string', '"media"', 'VW_ERR_BAD_JSON'],
    ['JSON null', 'null', 'VW_ERR_BAD_JSON'],
    ['an event that is not a string', '{"event":5}', 'VW_ERR_BAD_FIELD', 'event'],
    ['a missing event', '{"streamSid":"MZ1"}', 'VW_ERR_BAD_FIELD', 'event'],
    ['an unknown event', '{"event":"hello","sequenceNumber":"1"}', 'VW_ERR_UNKNOWN_EVENT'],
    ['a server-only event sent by the caller', `{"event":"clear","streamSid":"${SID}"}`, 'VW_ERR_UNKNOWN_EVENT'],
    ['a numeric sequenceNumber', mediaWire({ top: { sequenceNumber: 3 } }), 'VW_ERR_BAD_FIELD', 'sequenceNumber'],
    ['a non-digit sequenceNumber', mediaWire({ top: { sequenceNumber: '3a' } }), 'VW_ERR_BAD_FIELD', 'sequenceNumber'],
    ['a missing streamSid', mediaWire({ top: { streamSid: undefined } }), 'VW_ERR_BAD_FIELD', 'streamSid'],
    ['a streamSid with spaces', mediaWire({ top: { streamSid: 'MZ 1' } }), 'VW_ERR_BAD_FIELD', 'streamSid'],
    ['media that is not an object', mediaWire({ top: { media: 'x' } }), 'VW_ERR_BAD_FIELD', 'media'],
    ['a numeric chunk', mediaWire({ media: { chunk: 1 } }), 'VW_ERR_BAD_FIELD', 'media.chunk'],
    ['a negative timestamp', mediaWire({ media: { timestamp: '-5' } }), 'VW_ERR_BAD_FIELD', 'media.timestamp'],
    ['a fractional timestamp', mediaWire({ media: { timestamp: '5.5' } }), 'VW_ERR_BAD_FIELD', 'media.timestamp'],
    ['a missing track', mediaWire({ media: { track: undefined } }), 'VW_ERR_BAD_FIELD', 'media.track'],
    ['a missing payload', mediaWire({ media: { payload: undefined } }), 'VW_ERR_BAD_FIELD', 'media.payload'],
    ['a numeric payload', mediaWire({ media: { payload: 12 } }), 'VW_ERR_BAD_FIELD', 'media.payload'],
    ['a payload whose length is not a multiple of 4', mediaWire({ media: { payload: 'abc' } }), 'VW_ERR_BAD_BASE64'],
    ['a payload outside the base64 alphabet', mediaWire({ media: { payload: 'ab!d' } }), 'VW_ERR_BAD_BASE64'],
    ['a url-safe base64 payload', mediaWire({ media: { payload: 'ab-_' } }), 'VW_ERR_BAD_BASE64'],
    ['padding in the middle', mediaWire({ media: { payload: 'ab==abcd' } }), 'VW_ERR_BAD_BASE64'],
    ['an empty payload', mediaWire({ media: { payload: '' } }), 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['a payload over 1 s of audio', mediaWire({ media: { payload: Buffer.alloc(8001).toString('base64') } }), 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['a sampleRate sent as a string', startWire({}, { sampleRate: '8000' }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.sampleRate'],
    ['a 16 kHz stream', startWire({}, { sampleRate: 16000 }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.sampleRate'],
    ['a stereo stream', startWire({}, { channels: 2 }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.channels'],
    ['another encoding', startWire({}, { encoding: 'audio/l16' }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat.encoding'],
    ['a start whose streamSid differs from the top level', startWire({ streamSid: 'MZother' }), 'VW_ERR_BAD_FIELD', 'start.streamSid'],
    ['a start without callSid', startWire({ callSid: undefined }), 'VW_ERR_BAD_FIELD', 'start.callSid'],
    ['a start without accountSid', startWire({ accountSid: 7 }), 'VW_ERR_BAD_FIELD', 'start.accountSid'],
    ['tracks that are not an array', startWire({ tracks: 'inbound' }), 'VW_ERR_BAD_FIELD', 'start.tracks'],
    ['a custom parameter that is not a string', startWire({ customParameters: { lang: 1 } }), 'VW_ERR_BAD_FIELD', 'start.customParameters.lang'],
    ['customParameters that are an array', startWire({ customParameters: ['a'] }), 'VW_ERR_BAD_FIELD', 'start.customParameters'],
    ['a start without mediaFormat', startWire({ mediaFormat: undefined }), 'VW_ERR_BAD_FIELD', 'start.mediaFormat'],
    ['a DTMF digit outside the keypad', `{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"x"}}`, 'VW_ERR_BAD_FIELD', 'dtmf.digit'],
    ['a mark without name', `{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{}}`, 'VW_ERR_BAD_FIELD', 'mark.name'],
    ['a mark with an empty name', `{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":""}}`, 'VW_ERR_BAD_FIELD', 'mark.name'],
    ['a stop whose callSid is a number', `{"event":"stop","sequenceNumber":"5","streamSid":"${SID}","stop":{"accountSid":"AC1","callSid":5}}`, 'VW_ERR_BAD_FIELD', 'stop.callSid'],
    ['a connected message without protocol', '{"event":"connected","version":"1.0.0"}', 'VW_ERR_BAD_FIELD', 'protocol'],
    ['a message over the size limit', mediaWire({ top: { padding: 'x'.repeat(MAX_MESSAGE_CHARS) } }), 'VW_ERR_MESSAGE_TOO_LARGE'],
  ];
  for (const [what, text, code, field] of cases) {
    void test(`${what} → ${code}${field === undefined ? '' : ` (${field})`}`, () => {
      expectError(parseTwilioMessage(text, buffer()), code, field);
    });
  }

  void test('a payload larger than the caller buffer is a size error, not a base64 error', () => {
    expectError(parseTwilioMessage(mediaWire(), new Uint8Array(100)), 'VW_ERR_BAD_PAYLOAD_SIZE');
  });

  void test('extra fields Twilio may add later are ignored', () => {
    const message = expectOk(parseTwilioMessage(mediaWire({ top: { future: { x: 1 } }, media: { extra: true } }), buffer()));
    assert.equal(message.event, 'media');
  });

  void test('a "__proto__" custom parameter stays a plain key', () => {
    const text = startWire().replace('"FirstName"', '"__proto__"');
    const message = expectOk(parseTwilioMessage(text, buffer()));
    assert.equal(message.event, 'start');
    if (message.event !== 'start') return;
    assert.equal(Object.getPrototypeOf(message.customParameters), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(message.customParameters, '__proto__')?.value, 'Jane');
  });
});

const KNOWN_CODES: ReadonlySet<string> = new Set([
  'VW_ERR_BAD_JSON',
  'VW_ERR_UNKNOWN_EVENT',
  'VW_ERR_BAD_FIELD',
  'VW_ERR_BAD_BASE64',
  'VW_ERR_BAD_PAYLOAD_SIZE',
  'VW_ERR_MESSAGE_TOO_LARGE',
]);

function neverThrows(text: string): void {
  const result = parseTwilioMessage(text, buffer());
  if (!result.ok) assert.ok(KNOWN_CODES.has(result.error.code), result.error.code);
}

const sidArb = fc.stringMatching(/^[A-Za-z0-9]{1,64}$/);
const counter = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER > 1e15 ? 1e15 - 1 : 0 });
const inboundArb: fc.Arbitrary<TwilioInbound> = fc.oneof(
  fc.record({ event: fc.constant('connected' as const), protocol: fc.string({ minLength: 1, maxLength: 64 }), version: fc.string({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    event: fc.constant('start' as const),
    sequenceNumber: counter,
    streamSid: sidArb,
    accountSid: sidArb,
    callSid: sidArb,
    tracks: fc.array(fc.string({ minLength: 1, maxLength: 32 }), { minLength: 1, maxLength: 4 }),
    customParameters: fc.dictionary(fc.string({ maxLength: 20 }), anyText(100), { maxKeys: 10 }),
    mediaFormat: fc.constant({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }),
  }),
  fc.record({
    event: fc.constant('media' as const),
    sequenceNumber: counter,
    streamSid: sidArb,
    track: fc.string({ minLength: 1, maxLength: 32 }),
    chunk: counter,
    timestamp: counter,
    payload: fc.uint8Array({ minLength: 1, maxLength: MAX_MEDIA_PAYLOAD_BYTES }),
  }),
  fc.record({ event: fc.constant('dtmf' as const), sequenceNumber: counter, streamSid: sidArb, track: fc.string({ minLength: 1, maxLength: 32 }), digit: fc.constantFrom(...'0123456789*#ABCD') }),
  fc.record({ event: fc.constant('mark' as const), sequenceNumber: counter, streamSid: sidArb, name: anyText(256, 1) }),
  fc.record({ event: fc.constant('stop' as const), sequenceNumber: counter, streamSid: sidArb, accountSid: sidArb, callSid: sidArb }),
);

void describe('Twilio codec: properties', () => {
  void test('serialise → parse gives back every generated Twilio message', () => {
    fc.assert(
      fc.property(inboundArb, (message) => {
        const parsed = expectOk(parseTwilioMessage(serializeTwilioInbound(message), buffer()));
        assert.deepEqual(plain(parsed), plain(message));
      }),
      { numRuns: 500 },
    );
  });

  void test('arbitrary strings never throw: always a message or a known code', () => {
    fc.assert(fc.property(anyText(300), neverThrows), { numRuns: 2000 });
  });

  void test('arbitrary JSON values never throw', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), neverThrows), { numRuns: 2000 });
  });

  void test('known events with arbitrary fields never throw', () => {
    const arb = fc.record({
      event: fc.constantFrom(...INBOUND),
      sequenceNumber: fc.oneof(fc.jsonValue(), fc.stringMatching(/^[0-9]{1,20}$/)),
      streamSid: fc.oneof(fc.jsonValue(), sidArb),
      start: fc.jsonValue(),
      media: fc.oneof(fc.jsonValue(), fc.record({ track: fc.jsonValue(), chunk: fc.jsonValue(), timestamp: fc.jsonValue(), payload: fc.oneof(fc.jsonValue(), fc.base64String()) })),
      mark: fc.jsonValue(),
      dtmf: fc.jsonValue(),
      stop: fc.jsonValue(),
    });
    fc.assert(fc.property(arb, (value) => neverThrows(JSON.stringify(value))), { numRuns: 2000 });
  });

  void test('breaking any one media field is reported with that field path', () => {
    const fields = ['sequenceNumber', 'streamSid', 'media', 'media.track', 'media.chunk', 'media.timestamp', 'media.payload'] as const;
    const badValue = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
    fc.assert(
      fc.property(fc.constantFrom(...fields), badValue, (field, value) => {
        const wire = JSON.parse(mediaWire()) as Record<string, Record<string, unknown>>;
        const [outer, inner] = field.split('.') as [string, string | undefined];
        // An empty object is a valid `media` container only in shape: its fields are then missing.
        if (inner === undefined) wire[outer] = value as Record<string, unknown>;
        else (wire[outer] as Record<string, unknown>)[inner] = value;
        const result = parseTwilioMessage(JSON.stringify(wire), buffer());
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.error.code, 'VW_ERR_BAD_FIELD');
        const expected = field === 'media' && typeof value === 'object' && value !== null && !Array.isArray(value) ? 'media.track' : field;
        assert.equal(result.field, expected);
      }),
      { numRuns: 300 },
    );
  });

  void test('server media carries any bytes and any streamSid losslessly', () => {
    fc.assert(
      fc.property(anyText(64), fc.uint8Array({ maxLength: 2000 }), (streamSid, bytes) => {
        const wire = JSON.parse(serializeMedia(streamSid, bytes)) as { event: string; streamSid: string; media: { payload: string } };
        assert.deepEqual(Object.keys(wire), ['event', 'streamSid', 'media']);
        assert.equal(wire.streamSid, streamSid);
        assert.deepEqual(new Uint8Array(Buffer.from(wire.media.payload, 'base64')), bytes);
      }),
      { numRuns: 500 },
    );
  });

  void test('mark names with quotes, backslashes and any unicode survive serialisation', () => {
    fc.assert(
      fc.property(anyText(100), (name) => {
        const wire = JSON.parse(serializeMark(SID, name)) as { mark: { name: string } };
        assert.equal(wire.mark.name, name);
      }),
      { numRuns: 500 },
    );
  });
});
