import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MAX_AUDIO_BYTES, MAX_TEXT_CHARS, parseVonageAudio, parseVonageText, rateOfContentType, serializeClear, serializeNotify, type VonageParseResult } from '../../../src/transports/vonage/codec.js';
import { websocketNcco } from '../../../src/transports/vonage/ncco.js';
import { ERRORS, type ErrorCode } from '../../../src/errors.js';
import type { VonageRate } from '../../../src/transports/vonage/messages.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/vonage/${name}.json`, import.meta.url), 'utf8')) as T;
}

function expectError(result: VonageParseResult, code: ErrorCode, field?: string): void {
  assert.equal(result.ok, false, 'expected an error');
  if (result.ok) return;
  assert.equal(result.error.code, code);
  if (field !== undefined) assert.equal(result.field, field);
}

describe('Vonage codec: golden fixtures from the docs', () => {
  for (const name of ['connected', 'notify', 'cleared', 'dtmf']) {
    test(`${name} parses to its typed message`, () => {
      const { wire, parsed } = fixture<{ wire: unknown; parsed: unknown }>(name);
      const result = parseVonageText(JSON.stringify(wire));
      assert.ok(result.ok, result.ok ? '' : result.error.message);
      assert.deepEqual(JSON.parse(JSON.stringify(result.message)), parsed);
    });
  }

  test('notify, clear and the connect NCCO serialise to the documented shapes', () => {
    const notify = fixture<{ wire: unknown; input: { name: string } }>('server-notify');
    assert.deepEqual(JSON.parse(serializeNotify(notify.input.name)), notify.wire);
    assert.deepEqual(JSON.parse(serializeClear()), fixture<{ wire: unknown }>('server-clear').wire);
    const ncco = fixture<{ wire: unknown; input: { uri: string; rate: VonageRate; headers: Record<string, string> } }>('ncco-connect');
    assert.deepEqual(websocketNcco(ncco.input.uri, ncco.input.rate, ncco.input.headers), ncco.wire);
  });
});

describe('Vonage codec: details', () => {
  test('content types: L16 at 8, 16 or 24 kHz, case and spaces tolerated; nothing else', () => {
    assert.equal(rateOfContentType('audio/l16;rate=8000'), 8000);
    assert.equal(rateOfContentType('audio/L16; rate=16000'), 16000);
    assert.equal(rateOfContentType('audio/l16;rate=24000'), 24000);
    assert.equal(rateOfContentType('audio/l16;rate=44100'), undefined);
    assert.equal(rateOfContentType('audio/pcmu;rate=8000'), undefined);
  });

  test('headers of websocket:connected keep string values only, bounded, and stay plain keys', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`h${i}`, 'v']));
    const result = parseVonageText(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=8000', n: 1, __proto__x: 'a', ...many }));
    assert.ok(result.ok && result.message.event === 'websocket:connected');
    assert.equal(Object.keys(result.message.headers).length, 32);
    assert.equal(result.message.headers['n'], undefined);
  });

  test('a dtmf with the digit in a nested dtmf object is read the same way', () => {
    const result = parseVonageText('{"event":"websocket:dtmf","dtmf":{"digit":"#","duration":100}}');
    assert.deepEqual(result.ok && result.message, { event: 'websocket:dtmf', digit: '#', durationMs: 100 });
  });

  test('binary audio is whole 16-bit samples, not empty, at most 1 s', () => {
    assert.equal(parseVonageAudio(new Uint8Array(640)).ok, true);
    for (const size of [0, 641, MAX_AUDIO_BYTES + 2]) {
      const result = parseVonageAudio(new Uint8Array(size));
      assert.equal(!result.ok && result.error.code, 'VW_ERR_BAD_PAYLOAD_SIZE', `${size} bytes`);
    }
  });
});

describe('Vonage codec: malformed input is a coded error', () => {
  const cases: Array<[string, string, ErrorCode, string?]> = [
    ['not JSON', '{"event":', 'VW_ERR_BAD_JSON'],
    ['a string', '"websocket:connected"', 'VW_ERR_BAD_JSON'],
    ['no event', '{"action":"notify"}', 'VW_ERR_BAD_FIELD', 'event'],
    ['an unknown event', '{"event":"websocket:bogus"}', 'VW_ERR_UNKNOWN_EVENT'],
    ['connected without content-type', '{"event":"websocket:connected"}', 'VW_ERR_BAD_FIELD', 'content-type'],
    ['connected with μ-law', '{"event":"websocket:connected","content-type":"audio/pcmu"}', 'VW_ERR_BAD_FIELD', 'content-type'],
    ['notify without payload', '{"event":"websocket:notify"}', 'VW_ERR_BAD_FIELD', 'payload'],
    ['notify with a string payload', '{"event":"websocket:notify","payload":"x"}', 'VW_ERR_BAD_FIELD', 'payload'],
    ['dtmf without a digit', '{"event":"websocket:dtmf"}', 'VW_ERR_BAD_FIELD', 'digit'],
    ['dtmf with a negative duration', '{"event":"websocket:dtmf","digit":"1","duration":-5}', 'VW_ERR_BAD_FIELD', 'duration'],
  ];
  for (const [what, text, code, field] of cases) test(`${what} → ${code}`, () => expectError(parseVonageText(text), code, field));

  test('a message over the size limit is refused before parsing', () => {
    expectError(parseVonageText(' '.repeat(MAX_TEXT_CHARS + 1)), 'VW_ERR_MESSAGE_TOO_LARGE');
  });
});

describe('Vonage codec: properties', () => {
  test('10 000 fuzzed text messages: never a throw, always a typed message or a coded error', () => {
    const goldens = ['connected', 'notify', 'cleared', 'dtmf'].map((n) => fixture<{ wire: Record<string, unknown> }>(n).wire);
    const leaf = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
    const mutated = fc.tuple(fc.constantFrom(...goldens), fc.array(fc.tuple(fc.constantFrom('event', 'content-type', 'payload', 'digit', 'duration', 'extra'), leaf), { maxLength: 3 }))
      .map(([base, edits]) => JSON.stringify(Object.assign({ ...base }, Object.fromEntries(edits))));
    let ok = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, fc.json(), fc.string({ maxLength: 200 })), (text) => {
        const result = parseVonageText(text);
        if (result.ok) ok++;
        else assert.ok(result.error.code in ERRORS, result.error.code);
      }),
      { numRuns: 10_000 },
    );
    assert.ok(ok > 0);
  });

  test('10 000 fuzzed binary messages: accepted exactly when they are 1..MAX whole samples', () => {
    fc.assert(
      fc.property(fc.nat(MAX_AUDIO_BYTES + 100), (size) => {
        const result = parseVonageAudio(new Uint8Array(size));
        assert.equal(result.ok, size > 0 && size % 2 === 0 && size <= MAX_AUDIO_BYTES);
      }),
      { numRuns: 10_000 },
    );
  });
});
