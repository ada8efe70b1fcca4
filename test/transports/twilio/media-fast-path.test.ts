import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, TWILIO_SID, parseTwilioMessage, parseTwilioMessageInFull, type TwilioParseResult } from '../../../src/transports/twilio/codec.js';
import { parseTwilioMediaBytes, readTwilioMediaOf } from '../../../src/transports/twilio/media-fast-path.js';
import { SIGNALWIRE_SID } from '../../../src/transports/signalwire/dialect.js';

const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';

/** Twilio's layout, built field by field with JSON.stringify (so any value is valid JSON). */
function mediaText(f: { sequence: string; track: string; chunk: string; timestamp: string; payload: string; sid: string }): string {
  const q = JSON.stringify;
  return `{"event":"media","sequenceNumber":${q(f.sequence)},"media":{"track":${q(f.track)},"chunk":${q(f.chunk)},"timestamp":${q(f.timestamp)},"payload":${q(f.payload)}},"streamSid":${q(f.sid)}}`;
}

/** Results compared with their payload bytes copied out (each parse writes its own buffer). */
function comparable(result: TwilioParseResult): unknown {
  if (!result.ok) return { ok: false, code: result.error.code, field: result.field };
  const message = result.message;
  return message.event === 'media' ? { ...message, payload: Array.from(message.payload) } : message;
}

const digits = fc.oneof(fc.stringMatching(/^[0-9]{1,15}$/), fc.stringMatching(/^[0-9]{14,17}$/), fc.constantFrom('', '-1', '1.5', '1e3', ' 1', '０'));
const track = fc.oneof(fc.constantFrom('inbound', 'outbound', 'inbound_track'), fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9_]{0,34}$/), fc.stringMatching(/^[A-Za-z0-9_]{31,34}$/));
const sid = fc.oneof(fc.constant(SID), fc.stringMatching(/^[A-Za-z0-9-]{0,66}$/), fc.string({ maxLength: 70 }));
const payload = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: MAX_MEDIA_PAYLOAD_BYTES + 3 }).map((b) => Buffer.from(b).toString('base64')),
  fc.string({ maxLength: 64 }),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64').replace(/=+$/, '')),
);
const fields = fc.record({ sequence: digits, track, chunk: digits, timestamp: digits, payload, sid });

/**
 * The frame's bytes through the byte path (fast, else decoded and parsed in full) against its text
 * through the full parser alone. `knownSid`: the sid of the stream's `start` (valid by then),
 * which the fast path does not re-check. `frame` as bytes is what ws delivers; as text, its UTF-8.
 */
function both(frame: string | Uint8Array, sidPattern = TWILIO_SID, knownSid?: string): { fast: unknown; full: unknown } {
  const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
  const text = Buffer.from(bytes).toString('utf8');
  const fast = comparable(parseTwilioMessage(bytes, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), { sidPattern }, knownSid));
  const full = comparable(parseTwilioMessageInFull(text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), { sidPattern }));
  return { fast, full };
}

/** The byte path alone (undefined: it fell through to the full parser). */
function fastOnly(frame: string | Uint8Array, knownSid?: string, sidPattern = TWILIO_SID): ReturnType<typeof parseTwilioMediaBytes> {
  const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
  return parseTwilioMediaBytes(bytes, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), MAX_MESSAGE_CHARS, sidPattern, knownSid);
}

/** Strictly valid field values: the byte path must take every such frame, not fall through. */
const validFields = fc.record({
  sequence: fc.stringMatching(/^[0-9]{1,15}$/),
  chunk: fc.stringMatching(/^[0-9]{1,15}$/),
  timestamp: fc.stringMatching(/^[0-9]{1,15}$/),
  track: fc.oneof(fc.constant('inbound'), fc.stringMatching(/^[A-Za-z0-9_]{1,32}$/)),
  payload: fc.uint8Array({ minLength: 1, maxLength: 320 }).map((b) => Buffer.from(b).toString('base64')),
  sid: fc.constant(SID),
});

/** The text fields of a parsed media message (to rebuild its frame in the layout). */
function fieldsOf(result: TwilioParseResult): { sequence: string; track: string; chunk: string; timestamp: string; sid: string } {
  if (!result.ok || result.message.event !== 'media') throw new Error('not media');
  const m = result.message;
  return { sequence: String(m.sequenceNumber), track: m.track, chunk: String(m.chunk), timestamp: String(m.timestamp), sid: m.streamSid };
}

function encodeOf(bytes: readonly number[]): string {
  return Buffer.from(bytes).toString('base64');
}

describe('Twilio media fast path', () => {
  test('a real Twilio frame takes the fast path and reads as the full parser reads it', () => {
    const frame = Buffer.alloc(160, 0xff).toString('base64');
    const text = mediaText({ sequence: '42', track: 'inbound', chunk: '41', timestamp: '800', payload: frame, sid: SID });
    const fast = fastOnly(text);
    assert.ok(fast !== undefined);
    assert.deepEqual({ ...fast, payload: Array.from(fast.payload) }, {
      event: 'media', sequenceNumber: 42, streamSid: SID, track: 'inbound', chunk: 41, timestamp: 800, payload: Array.from(Buffer.alloc(160, 0xff)),
    });
    assert.deepEqual(both(text).fast, both(text).full);
  });

  test('other layouts, spaces, escapes and extra fields are left to the full parser', () => {
    const frame = Buffer.alloc(160, 0xff).toString('base64');
    const base = { event: 'media', sequenceNumber: '1', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: frame }, streamSid: SID };
    const out = new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES);
    for (const text of [
      JSON.stringify(base, null, 1),
      JSON.stringify({ streamSid: SID, event: base.event, sequenceNumber: base.sequenceNumber, media: base.media }),
      JSON.stringify({ ...base, extra: 1 }),
      JSON.stringify(base).replace('inbound', 'in\\u0062ound'),
      JSON.stringify(base).replace(frame, frame.replace(/\//g, '\\/')),
    ]) {
      assert.equal(parseTwilioMediaBytes(Buffer.from(text), out, MAX_MESSAGE_CHARS, TWILIO_SID), undefined, text.slice(0, 60));
      assert.deepEqual(both(text).fast, both(text).full);
    }
  });

  test('property: any media message in the layout reads exactly as the full parser reads it (Twilio and SignalWire sids)', () => {
    fc.assert(
      fc.property(fields, fc.boolean(), fc.boolean(), (f, signalwire, started) => {
        const text = mediaText(f);
        const { fast, full } = both(text, signalwire ? SIGNALWIRE_SID : TWILIO_SID, started ? SID : undefined);
        assert.deepEqual(fast, full);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: every valid frame takes the byte path, with or without the known sid, and reads as the full parser reads it', () => {
    fc.assert(
      fc.property(validFields, fc.boolean(), (f, started) => {
        const text = mediaText(f);
        const knownSid = started ? SID : undefined;
        assert.ok(fastOnly(text, knownSid) !== undefined, text.slice(0, 80));
        const { fast, full } = both(text, TWILIO_SID, knownSid);
        assert.deepEqual(fast, full);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: a valid frame with one character changed, inserted or removed reads as the full parser reads it', () => {
    fc.assert(
      fc.property(validFields, fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('replace', 'insert', 'delete'), fc.boolean(), (f, at, code, edit, started) => {
        const text = mediaText(f);
        const i = at % text.length;
        const c = String.fromCharCode(code);
        const mutated = edit === 'replace' ? text.slice(0, i) + c + text.slice(i + 1) : edit === 'insert' ? text.slice(0, i) + c + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
        const { fast, full } = both(mutated, TWILIO_SID, started ? SID : undefined);
        assert.deepEqual(fast, full);
      }),
      { numRuns: 3000 },
    );
  });

  test('property: a valid frame with one byte changed, inserted or removed (any byte, UTF-8 or not) is read as before or falls through', () => {
    fc.assert(
      fc.property(validFields, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete'), fc.boolean(), (f, at, byte, edit, started) => {
        const original = Buffer.from(mediaText(f), 'latin1');
        const i = at % original.length;
        const b = Buffer.of(byte);
        const parts = edit === 'replace' ? [original.subarray(0, i), b, original.subarray(i + 1)] : edit === 'insert' ? [original.subarray(0, i), b, original.subarray(i)] : [original.subarray(0, i), original.subarray(i + 1)];
        const mutated = Buffer.concat(parts);
        const knownSid = started ? SID : undefined;
        // Taken by the byte path only if still a valid frame in the layout (then its text parses the same).
        const taken = fastOnly(mutated, knownSid);
        if (taken !== undefined) assert.ok(mutated.every((x) => x < 0x80), 'non-ASCII never taken');
        const { fast, full } = both(mutated, TWILIO_SID, knownSid);
        assert.deepEqual(fast, full);
      }),
      { numRuns: 4000 },
    );
  });

  test('property: non-ASCII text in any field falls through and reads as the full parser reads it', () => {
    const nonAscii = fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).filter((t) => /[^\x00-\x7f]/.test(t));
    fc.assert(
      fc.property(validFields, fc.constantFrom('sequence', 'track', 'chunk', 'timestamp', 'payload', 'sid'), nonAscii, fc.nat(), fc.boolean(), (f, field, inserted, at, started) => {
        const value = f[field];
        const i = at % (value.length + 1);
        const text = mediaText({ ...f, [field]: value.slice(0, i) + inserted + value.slice(i) });
        const knownSid = started ? SID : undefined;
        assert.equal(fastOnly(text, knownSid), undefined);
        const { fast, full } = both(text, TWILIO_SID, knownSid);
        assert.deepEqual(fast, full);
      }),
      { numRuns: 1000 },
    );
  });

  test('a frame whose payload is not base64 after the layout matched falls through to the coded error', () => {
    const frame = Buffer.alloc(160, 0xff).toString('base64');
    for (const payload of [frame.slice(0, -1) + '*', '=' + frame.slice(1), frame.slice(0, -4) + '====', frame.slice(0, -3) + 'A=A', 'A'.repeat(5)]) {
      const text = mediaText({ sequence: '1', track: 'inbound', chunk: '1', timestamp: '0', payload, sid: SID });
      assert.equal(fastOnly(text, SID), undefined, payload.slice(-8));
      const { fast, full } = both(text, TWILIO_SID, SID);
      assert.deepEqual(fast, full);
      assert.equal((fast as { code: string }).code, 'VW_ERR_BAD_BASE64');
    }
  });

  test('property: the caller-audio read takes a frame exactly when the full parser reads it as media of that stream and track, with the same payload', () => {
    const frame = fc.oneof(
      fields.map((f) => Buffer.from(mediaText(f), 'utf8')),
      fc.tuple(validFields, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([f, at, byte, insert]) => {
        const original = Buffer.from(mediaText(f), 'latin1');
        const i = at % original.length;
        return Buffer.concat([original.subarray(0, i), Buffer.of(byte), original.subarray(insert ? i : i + 1)]);
      }),
    );
    fc.assert(
      fc.property(frame, fc.constantFrom('inbound', 'outbound'), (bytes, track) => {
        const out = new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES);
        const size = readTwilioMediaOf(bytes, out, MAX_MESSAGE_CHARS, SID, track);
        const full = parseTwilioMessageInFull(Buffer.from(bytes).toString('utf8'), new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES));
        const expected = full.ok && full.message.event === 'media' && full.message.streamSid === SID && full.message.track === track ? Array.from(full.message.payload) : undefined;
        if (size < 0) {
          // Falling through is always allowed; the full parser then decides. A frame in the exact
          // layout with plain-ASCII values, though, must not fall through.
          const layout = expected !== undefined && bytes.every((x) => x < 0x80) && bytes.equals(Buffer.from(mediaText({ ...fieldsOf(full), payload: encodeOf(expected) }), 'latin1'));
          assert.ok(!layout, 'a frame in the layout fell through');
        } else {
          assert.deepEqual(Array.from(out.subarray(0, size)), expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('a text longer than the message bound is never read by the fast path', () => {
    const text = mediaText({ sequence: '1', track: 'inbound', chunk: '1', timestamp: '0', payload: 'A'.repeat(MAX_MESSAGE_CHARS), sid: SID });
    assert.equal(parseTwilioMediaBytes(Buffer.from(text), new Uint8Array(MAX_MESSAGE_CHARS), MAX_MESSAGE_CHARS, TWILIO_SID), undefined);
    assert.deepEqual(both(text).fast, both(text).full);
  });
});
