import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { EXOTEL_MAX_PAYLOAD_BYTES, parseExotelMessage, serializeExotelClear, serializeExotelMark, serializeExotelMedia } from '../../../src/transports/exotel/codec.js';
import type { StreamInbound } from '../../../src/transports/media-stream/dialect.js';

interface Fixture {
  readonly source: string;
  readonly wire: Record<string, unknown>;
  readonly parsed?: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../fixtures/exotel/${name}.json`, import.meta.url), 'utf8')) as Fixture;
}

function parse(wire: unknown): ReturnType<typeof parseExotelMessage> {
  return parseExotelMessage(JSON.stringify(wire), new Uint8Array(EXOTEL_MAX_PAYLOAD_BYTES));
}

function plain(message: StreamInbound): Record<string, unknown> {
  if (message.event !== 'media') return { ...message };
  const { payload, track, ...rest } = message;
  assert.equal(track, undefined, 'Exotel media has no track');
  return { ...rest, payloadBytes: payload.length };
}

void describe('Exotel codec: golden messages from developer.exotel.com', () => {
  for (const name of ['connected', 'start', 'media', 'dtmf', 'mark', 'stop']) {
    void test(`${name} parses to its documented meaning`, () => {
      const f = fixture(name);
      assert.match(f.source, /^https:\/\/developer\.exotel\.com\//);
      const result = parse(f.wire);
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(plain(result.message), f.parsed);
    });
  }
  void test('what we send is exactly the documented media, mark and clear', () => {
    const sid = 'MZxxxxxxxxxxxxxxxxxxxxxxxx';
    assert.deepEqual(JSON.parse(serializeExotelMedia(sid, new Uint8Array(320))), fixture('server-media').wire);
    assert.deepEqual(JSON.parse(serializeExotelMark(sid, 'vw:0:0:200')), fixture('server-mark').wire);
    assert.deepEqual(JSON.parse(serializeExotelClear(sid)), fixture('server-clear').wire);
  });
  void test('each documented sample rate gives its PCM16 format; others are a bad field', () => {
    const start = fixture('start').wire;
    const withRate = (rate: unknown) => parse({ ...start, start: { ...(start['start'] as object), media_format: { encoding: 'audio/x-raw', sample_rate: rate, bit_rate: '16' } } });
    for (const rate of [8000, 16000, 24000]) {
      const result = withRate(String(rate));
      assert.ok(result.ok && result.message.event === 'start');
      assert.deepEqual(result.message.format, { encoding: 'pcm16', sampleRate: rate });
    }
    for (const rate of ['44100', '8k', null]) {
      const result = withRate(rate);
      assert.ok(!result.ok && result.error.code === 'VW_ERR_BAD_FIELD');
    }
  });
});

void describe('Exotel codec: malformed input gets a coded error', () => {
  const cases: Array<[string, unknown, string]> = [
    ['an odd payload (half a sample)', { event: 'media', sequence_number: '3', stream_sid: 'MZ1', media: { payload: 'AA==' } }, 'VW_ERR_BAD_PAYLOAD_SIZE'],
    ['bad base64', { event: 'media', sequence_number: '3', stream_sid: 'MZ1', media: { payload: '@@@@' } }, 'VW_ERR_BAD_BASE64'],
    ['no stream_sid', { event: 'mark', sequence_number: '3', mark: { name: 'x' } }, 'VW_ERR_BAD_FIELD'],
    ['a start whose inner stream_sid differs', { ...fixture('start').wire, stream_sid: 'MZother' }, 'VW_ERR_BAD_FIELD'],
    ['an unknown event', { event: 'transcript', sequence_number: '3', stream_sid: 'MZ1' }, 'VW_ERR_UNKNOWN_EVENT'],
    ['a numeric sequence_number', { event: 'stop', sequence_number: 3, stream_sid: 'MZ1' }, 'VW_ERR_BAD_FIELD'],
  ];
  for (const [what, wire, code] of cases) {
    void test(what, () => {
      const result = parse(wire);
      assert.ok(!result.ok && result.error.code === code, JSON.stringify(result));
    });
  }
});

void describe('Exotel codec: properties', () => {
  void test('any whole-sample payload survives serialisation and parsing unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: EXOTEL_MAX_PAYLOAD_BYTES / 2 }).chain((n) => fc.uint8Array({ minLength: n * 2, maxLength: n * 2 })), (bytes) => {
        const wire = JSON.parse(serializeExotelMedia('MZ1', bytes)) as { media: object };
        const result = parse({ event: 'media', sequence_number: '1', stream_sid: 'MZ1', media: wire.media });
        assert.ok(result.ok && result.message.event === 'media');
        assert.deepEqual(result.message.payload, bytes);
      }),
      { numRuns: 200 },
    );
  });
});
