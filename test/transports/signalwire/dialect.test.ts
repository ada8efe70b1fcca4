import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SIGNALWIRE_DIALECT } from '../../../src/transports/signalwire/dialect.js';
import type { StreamInbound } from '../../../src/transports/media-stream/dialect.js';

interface Fixture {
  readonly source: string;
  readonly wire: unknown;
  readonly parsed: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../fixtures/signalwire/${name}.json`, import.meta.url), 'utf8')) as Fixture;
}

function plain(message: StreamInbound): Record<string, unknown> {
  if (message.event !== 'media') return { ...message };
  const { payload, ...rest } = message;
  return { ...rest, payloadBytes: payload.length };
}

void describe('SignalWire dialect: Twilio messages with SignalWire ids', () => {
  for (const name of ['connected', 'start', 'media', 'mark', 'stop']) {
    void test(`${name} parses to its documented meaning`, () => {
      const f = fixture(name);
      assert.match(f.source, /^https:\/\/developer\.signalwire\.com\//);
      const result = SIGNALWIRE_DIALECT.parse(JSON.stringify(f.wire), new Uint8Array(SIGNALWIRE_DIALECT.maxPayloadBytes));
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(plain(result.message), f.parsed);
    });
  }
  void test('the kind and name are SignalWire, the messages we send are Twilio\'s', () => {
    assert.equal(SIGNALWIRE_DIALECT.kind, 'signalwire');
    assert.equal(SIGNALWIRE_DIALECT.serializeClear('c54c1b34-7efa-4fc5-8a56-16c41a8efb2b'), '{"event":"clear","streamSid":"c54c1b34-7efa-4fc5-8a56-16c41a8efb2b"}');
  });
  void test('a sid with characters outside a UUID is a coded bad field', () => {
    const wire = fixture('mark').wire as Record<string, unknown>;
    const result = SIGNALWIRE_DIALECT.parse(JSON.stringify({ ...wire, streamSid: 'c54c1b34 7efa' }), new Uint8Array(8));
    assert.ok(!result.ok && result.error.code === 'VW_ERR_BAD_FIELD');
  });
});
