import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { TELNYX_MAX_PAYLOAD_BYTES, parseTelnyxMessage, serializeTelnyxClear, serializeTelnyxMark, serializeTelnyxMedia } from '../../../src/transports/telnyx/codec.js';
import type { StreamInbound } from '../../../src/transports/media-stream/dialect.js';

interface Fixture {
  readonly source: string;
  readonly wire: Record<string, unknown>;
  readonly parsed?: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../fixtures/telnyx/${name}.json`, import.meta.url), 'utf8')) as Fixture;
}

function parse(wire: unknown): ReturnType<typeof parseTelnyxMessage> {
  return parseTelnyxMessage(JSON.stringify(wire), new Uint8Array(TELNYX_MAX_PAYLOAD_BYTES));
}

function plain(message: StreamInbound): Record<string, unknown> {
  if (message.event !== 'media') return { ...message };
  const { payload, ...rest } = message;
  return { ...rest, payloadBytes: payload.length };
}

void describe('Telnyx codec: golden messages from the docs', () => {
  for (const name of ['connected', 'start', 'media', 'mark', 'dtmf', 'stop', 'error']) {
    void test(`${name} parses to its documented meaning`, () => {
      const f = fixture(name);
      assert.match(f.source, /^https:\/\/developers\.telnyx\.com\//);
      const result = parse(f.wire);
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(plain(result.message), f.parsed);
    });
  }

  void test('what we send is exactly the documented media, mark and clear', () => {
    assert.deepEqual(JSON.parse(serializeTelnyxMedia('ignored', new Uint8Array([0xff, 0xff, 0xff, 0xff]))), fixture('server-media').wire);
    assert.deepEqual(JSON.parse(serializeTelnyxMark('ignored', 'vw:0:0:200')), fixture('server-mark').wire);
    assert.deepEqual(JSON.parse(serializeTelnyxClear('ignored')), fixture('server-clear').wire);
  });

  void test('media decodes into the caller buffer as PCMU bytes', () => {
    const out = new Uint8Array(TELNYX_MAX_PAYLOAD_BYTES);
    const result = parseTelnyxMessage(JSON.stringify(fixture('media').wire), out);
    assert.ok(result.ok && result.message.event === 'media');
    assert.equal(result.message.payload.buffer, out.buffer);
    assert.deepEqual([...result.message.payload], new Array(160).fill(0xff));
  });
});

void describe('Telnyx codec: malformed input gets a coded error naming the field', () => {
  const start = fixture('start').wire;
  const cases: Array<[string, unknown, string]> = [
    ['a codec other than PCMU', { ...start, start: { ...(start['start'] as object), media_format: { encoding: 'L16', sample_rate: 16000, channels: 1 } } }, 'VW_ERR_BAD_FIELD'],
    ['a sample rate as a string', { ...start, start: { ...(start['start'] as object), media_format: { encoding: 'PCMU', sample_rate: '8000' } } }, 'VW_ERR_BAD_FIELD'],
    ['no stream_id', { event: 'mark', sequence_number: '2', mark: { name: 'x' } }, 'VW_ERR_BAD_FIELD'],
    ['a numeric sequence_number', { event: 'mark', sequence_number: 2, stream_id: 'a', mark: { name: 'x' } }, 'VW_ERR_BAD_FIELD'],
    ['bad base64', { event: 'media', sequence_number: '3', stream_id: 'a', media: { payload: '@@@@' } }, 'VW_ERR_BAD_BASE64'],
    ['an empty payload', { event: 'media', sequence_number: '3', stream_id: 'a', media: { payload: '' } }, 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['an unknown event', { event: 'transcription', sequence_number: '3', stream_id: 'a' }, 'VW_ERR_UNKNOWN_EVENT'],
    ['a DTMF digit off the keypad', { event: 'dtmf', sequence_number: '3', stream_id: 'a', dtmf: { digit: 'Z' } }, 'VW_ERR_BAD_FIELD'],
  ];
  for (const [what, wire, code] of cases) {
    void test(what, () => {
      const result = parse(wire);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, code);
    });
  }
  void test('a payload over the bound is refused by size, before decoding', () => {
    const result = parse({ event: 'media', sequence_number: '3', stream_id: 'a', media: { payload: Buffer.alloc(TELNYX_MAX_PAYLOAD_BYTES + 3).toString('base64') } });
    assert.ok(!result.ok && result.error.code === 'VW_ERR_BAD_PAYLOAD_SIZE');
  });
});

void describe('Telnyx codec: properties', () => {
  void test('any payload bytes survive media serialisation and parsing unchanged (the fake and the gateway agree on the wire)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: TELNYX_MAX_PAYLOAD_BYTES }), fc.uuid(), (bytes, id) => {
        const wire = JSON.parse(serializeTelnyxMedia(id, bytes)) as { media: object };
        const result = parse({ event: 'media', sequence_number: '9', stream_id: id, media: wire.media });
        assert.ok(result.ok && result.message.event === 'media');
        assert.deepEqual(result.message.payload, bytes);
      }),
      { numRuns: 300 },
    );
  });
  void test('any mark name round-trips through serializeTelnyxMark', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (name) => {
        const wire = JSON.parse(serializeTelnyxMark('', name)) as { mark: object };
        const result = parse({ event: 'mark', sequence_number: '1', stream_id: 'a', mark: wire.mark });
        assert.ok(result.ok && result.message.event === 'mark' && result.message.name === name);
      }),
    );
  });
});
