import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, TWILIO_SID, parseTwilioMessage, parseTwilioMessageInFull, type TwilioParseResult } from '../../../src/transports/twilio/codec.js';
import { parseTwilioMediaFast } from '../../../src/transports/twilio/media-fast-path.js';
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

/** `knownSid`: the sid of the stream's `start` (valid by then), which the fast path does not re-check. */
function both(text: string, sidPattern = TWILIO_SID, knownSid?: string): { fast: unknown; full: unknown } {
  const fast = comparable(parseTwilioMessage(text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), { sidPattern }, knownSid));
  const full = comparable(parseTwilioMessageInFull(text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), { sidPattern }));
  return { fast, full };
}

describe('Twilio media fast path', () => {
  test('a real Twilio frame takes the fast path and reads as the full parser reads it', () => {
    const frame = Buffer.alloc(160, 0xff).toString('base64');
    const text = mediaText({ sequence: '42', track: 'inbound', chunk: '41', timestamp: '800', payload: frame, sid: SID });
    const fast = parseTwilioMediaFast(text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), MAX_MESSAGE_CHARS, TWILIO_SID);
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
      assert.equal(parseTwilioMediaFast(text, out, MAX_MESSAGE_CHARS, TWILIO_SID), undefined, text.slice(0, 60));
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

  test('property: a valid frame with one character changed, inserted or removed reads as the full parser reads it', () => {
    const valid = fc.record({
      sequence: fc.stringMatching(/^[0-9]{1,15}$/),
      chunk: fc.stringMatching(/^[0-9]{1,15}$/),
      timestamp: fc.stringMatching(/^[0-9]{1,15}$/),
      track: fc.constant('inbound'),
      payload: fc.uint8Array({ minLength: 1, maxLength: 320 }).map((b) => Buffer.from(b).toString('base64')),
      sid: fc.constant(SID),
    });
    fc.assert(
      fc.property(valid, fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('replace', 'insert', 'delete'), fc.boolean(), (f, at, code, edit, started) => {
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

  test('a text longer than the message bound is never read by the fast path', () => {
    const text = mediaText({ sequence: '1', track: 'inbound', chunk: '1', timestamp: '0', payload: 'A'.repeat(MAX_MESSAGE_CHARS), sid: SID });
    assert.equal(parseTwilioMediaFast(text, new Uint8Array(MAX_MESSAGE_CHARS), MAX_MESSAGE_CHARS, TWILIO_SID), undefined);
    assert.deepEqual(both(text).fast, both(text).full);
  });
});
