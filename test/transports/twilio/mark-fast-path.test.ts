/**
 * The mark-echo byte path (src/transports/twilio/mark-fast-path.ts) against the full parser: for a
 * started stream, a frame the byte path takes must be one the full parser reads as a mark echo of
 * that stream with the same name (the adapter would then reach the same handler); any other frame
 * must fall through, and a frame in Twilio's exact layout with plain values must not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MAX_MARK_NAME_CHARS, MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, TWILIO_SID, parseTwilioMessageInFull } from '../../../src/transports/twilio/codec.js';
import { readTwilioMarkEchoOf } from '../../../src/transports/twilio/mark-fast-path.js';
import { encodeMarkName } from '../../../src/transports/twilio/marks.js';
import { SIGNALWIRE_SID } from '../../../src/transports/signalwire/dialect.js';

const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const SIGNALWIRE_STREAM = '2e7a3b1c-5d4f-4a8e-9b6c-0f1e2d3c4b5a';

interface Fields {
  sequence: string;
  sid: string;
  name: string;
}

/** Twilio's layout, built field by field with JSON.stringify (so any value is valid JSON). */
function markText(f: Fields): string {
  const q = JSON.stringify;
  return `{"event":"mark","sequenceNumber":${q(f.sequence)},"streamSid":${q(f.sid)},"mark":{"name":${q(f.name)}}}`;
}

function bytesOf(frame: string | Uint8Array): Uint8Array {
  return typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
}

/**
 * What the adapter's full path makes of the frame on a stream started as `knownSid`: the name it
 * hands to the echo handler, or the code it rejects the frame with, or the other event it is.
 */
function fullPath(frame: string | Uint8Array, knownSid: string, sidPattern = TWILIO_SID): { name: string } | { code: string } | { event: string } {
  const text = Buffer.from(bytesOf(frame)).toString('utf8');
  const result = parseTwilioMessageInFull(text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES), { sidPattern });
  if (!result.ok) return { code: result.error.code };
  const message = result.message;
  if (message.event !== 'mark') return { event: message.event };
  return message.streamSid === knownSid ? { name: message.name } : { code: 'VW_ERR_WRONG_STREAM' };
}

/** The byte path: the name, or undefined (fell through). */
function fastPath(frame: string | Uint8Array, knownSid: string): string | undefined {
  return readTwilioMarkEchoOf(bytesOf(frame), MAX_MESSAGE_CHARS, knownSid);
}

/** The byte path took the frame with the full path's name, or fell through. */
function assertSameOrFallThrough(frame: string | Uint8Array, knownSid: string, sidPattern = TWILIO_SID): string | undefined {
  const fast = fastPath(frame, knownSid);
  if (fast !== undefined) assert.deepEqual({ name: fast }, fullPath(frame, knownSid, sidPattern));
  return fast;
}

/** True for a name the layout carries as itself (printable ASCII, no quote or backslash) within the bound. */
function plainName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_MARK_NAME_CHARS && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(name);
}

interface Fixture {
  source: string;
  wire: Record<string, unknown>;
  parsed: { name: string; streamSid: string };
}
function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../fixtures/twilio/${name}.json`, import.meta.url), 'utf8')) as Fixture;
}

/** Any UTF-16 text, lone surrogates and control characters included. */
function anyText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));
}

const count = fc.integer({ min: 0, max: 1e15 - 1 });
const ourName = fc.tuple(count, count, count, fc.option(count, { nil: undefined })).map(([epoch, seq, positionMs, sentenceId]) => encodeMarkName({ epoch, seq, positionMs, ...(sentenceId === undefined ? {} : { sentenceId }) }));
const name = fc.oneof(
  ourName,
  fc.constantFrom('', 'my label', 'vw:1:2:3', 'vw:1:2:3"', 'vw:1:2\\3', 'vw:1:2:3\n', 'vw:1:2:3é', '"', '\\'),
  fc.string({ maxLength: 40 }),
  anyText(20),
  fc.stringMatching(/^[\x20-\x7e]{250,260}$/),
);
const sequence = fc.oneof(fc.stringMatching(/^[0-9]{1,15}$/), fc.stringMatching(/^[0-9]{14,17}$/), fc.constantFrom('', '-1', '1.5', '1e3', ' 1', '０'));
const sid = fc.oneof(
  fc.constant(SID),
  fc.constant(SID).chain((s) => fc.nat({ max: s.length }).map((i) => s.slice(0, i))),
  fc.constant(SID).map((s) => `${s}0`),
  fc.tuple(fc.nat({ max: SID.length - 1 }), fc.constantFrom('X', '0', 'z')).map(([i, c]) => SID.slice(0, i) + c + SID.slice(i + 1)),
  fc.stringMatching(/^[A-Za-z0-9-]{0,66}$/),
  fc.string({ maxLength: 70 }),
);
const fields = fc.record({ sequence, sid, name });
/** Strictly valid values on the started stream: the byte path must take every such frame. */
const validFields = fc.record({ sequence: fc.stringMatching(/^[0-9]{1,15}$/), sid: fc.constant(SID), name: fc.oneof(ourName, fc.stringMatching(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,256}$/)) });

void describe('Twilio mark-echo fast path', () => {
  for (const name of ['mark', 'mark-docs-example']) {
    void test(`the golden ${name} frame (Twilio's docs, compact) takes the byte path with the full parser's name`, () => {
      const { wire, parsed, source } = fixture(name);
      assert.match(source, /^https:\/\/www\.twilio\.com\/docs\/voice\/media-streams\/websocket-messages/);
      const text = JSON.stringify(wire); // compact, in the docs' field order
      assert.equal(fastPath(text, parsed.streamSid), parsed.name);
      assert.deepEqual(fullPath(text, parsed.streamSid), { name: parsed.name });
    });
  }

  void test('the docs example as printed (spaces, newlines), another order, extra fields or escapes fall through', () => {
    const { wire } = fixture('mark-docs-example');
    for (const text of [
      JSON.stringify(wire, null, 1),
      JSON.stringify({ event: 'mark', streamSid: SID, sequenceNumber: '4', mark: { name: 'my label' } }),
      JSON.stringify({ ...wire, extra: 1 }),
      JSON.stringify({ ...wire, mark: { name: 'my label', extra: 1 } }),
      JSON.stringify(wire).replace('my label', 'my\\u0020label'),
      JSON.stringify(wire).replace('"mark"', '"m\\u0061rk"'),
      JSON.stringify({ ...wire, sequenceNumber: 4 }),
    ]) {
      assert.equal(fastPath(text, SID), undefined, text.slice(0, 70));
    }
  });

  void test('another stream, an empty or too long name and bad digits fall through to the full path\'s coded errors', () => {
    const cases: Array<[Fields, string]> = [
      [{ sequence: '4', sid: `${SID}0`, name: 'vw:0:0:0' }, 'VW_ERR_WRONG_STREAM'],
      [{ sequence: '4', sid: SID.slice(1), name: 'vw:0:0:0' }, 'VW_ERR_WRONG_STREAM'],
      [{ sequence: '4', sid: `${SID.slice(0, -1)}X`, name: 'vw:0:0:0' }, 'VW_ERR_WRONG_STREAM'],
      [{ sequence: '4', sid: SID, name: '' }, 'VW_ERR_BAD_FIELD'],
      [{ sequence: '4', sid: SID, name: 'x'.repeat(MAX_MARK_NAME_CHARS + 1) }, 'VW_ERR_BAD_FIELD'],
      [{ sequence: '', sid: SID, name: 'vw:0:0:0' }, 'VW_ERR_BAD_FIELD'],
      [{ sequence: '1'.repeat(16), sid: SID, name: 'vw:0:0:0' }, 'VW_ERR_BAD_FIELD'],
    ];
    for (const [f, code] of cases) {
      assert.equal(fastPath(markText(f), SID), undefined, JSON.stringify(f).slice(0, 70));
      assert.deepEqual(fullPath(markText(f), SID), { code });
    }
    // The longest name taken, and the full path agrees.
    const longest = markText({ sequence: '4', sid: SID, name: 'x'.repeat(MAX_MARK_NAME_CHARS) });
    assert.equal(fastPath(longest, SID), 'x'.repeat(MAX_MARK_NAME_CHARS));
    assert.equal(assertSameOrFallThrough(longest, SID), 'x'.repeat(MAX_MARK_NAME_CHARS));
  });

  void test('every single-byte replacement, insertion and deletion of the golden frames is read as the full parser reads it, or falls through', () => {
    for (const name of ['mark', 'mark-docs-example']) {
      const { wire, parsed } = fixture(name);
      const original = Buffer.from(JSON.stringify(wire), 'latin1');
      let taken = 0;
      for (let i = 0; i <= original.length; i++) {
        if (i < original.length) {
          const deleted = Buffer.concat([original.subarray(0, i), original.subarray(i + 1)]);
          if (assertSameOrFallThrough(deleted, parsed.streamSid) !== undefined) taken++;
        }
        for (let byte = 0; byte < 256; byte++) {
          const b = Buffer.of(byte);
          const inserted = Buffer.concat([original.subarray(0, i), b, original.subarray(i)]);
          if (assertSameOrFallThrough(inserted, parsed.streamSid) !== undefined) taken++;
          if (i === original.length || byte === original[i]) continue;
          const replaced = Buffer.concat([original.subarray(0, i), b, original.subarray(i + 1)]);
          if (assertSameOrFallThrough(replaced, parsed.streamSid) !== undefined) taken++;
        }
      }
      // Edits inside the name or the sequence number that keep them valid are still taken.
      assert.ok(taken > 1000, `${name}: ${taken} mutants taken`);
    }
  });

  void test('property: any mark message in the layout, any values, is read as the full parser reads it (Twilio and SignalWire sids)', () => {
    fc.assert(
      fc.property(fields, fc.boolean(), (f, signalwire) => {
        const knownSid = signalwire ? SIGNALWIRE_STREAM : SID;
        const values = signalwire && f.sid === SID ? { ...f, sid: SIGNALWIRE_STREAM } : f;
        const pattern = signalwire ? SIGNALWIRE_SID : TWILIO_SID;
        const text = markText(values);
        const fast = assertSameOrFallThrough(text, knownSid, pattern);
        // Plain values on the started stream are never left to the full parser.
        const layout = values.sid === knownSid && /^[0-9]{1,15}$/.test(values.sequence) && plainName(values.name);
        assert.equal(fast !== undefined, layout, text.slice(0, 80));
      }),
      { numRuns: 3000 },
    );
  });

  void test('property: every valid echo takes the byte path with its name', () => {
    fc.assert(
      fc.property(validFields, (f) => {
        assert.equal(fastPath(markText(f), SID), f.name);
        assert.deepEqual(fullPath(markText(f), SID), { name: f.name });
      }),
      { numRuns: 2000 },
    );
  });

  void test('property: a valid echo with one byte replaced, inserted or removed (any byte, UTF-8 or not) is read as before or falls through', () => {
    fc.assert(
      fc.property(validFields, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete'), (f, at, byte, edit) => {
        const original = Buffer.from(markText(f), 'latin1');
        const i = at % original.length;
        const b = Buffer.of(byte);
        const parts = edit === 'replace' ? [original.subarray(0, i), b, original.subarray(i + 1)] : edit === 'insert' ? [original.subarray(0, i), b, original.subarray(i)] : [original.subarray(0, i), original.subarray(i + 1)];
        const mutated = Buffer.concat(parts);
        const fast = assertSameOrFallThrough(mutated, SID);
        if (fast !== undefined) assert.ok(mutated.every((x) => x >= 0x20 && x < 0x7f), 'only printable ASCII is taken');
      }),
      { numRuns: 4000 },
    );
  });

  void test('property: a valid echo with one UTF-16 character changed, inserted or removed is read as the full parser reads it, or falls through', () => {
    fc.assert(
      fc.property(validFields, fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('replace', 'insert', 'delete'), (f, at, code, edit) => {
        const text = markText(f);
        const i = at % text.length;
        const c = String.fromCharCode(code);
        const mutated = edit === 'replace' ? text.slice(0, i) + c + text.slice(i + 1) : edit === 'insert' ? text.slice(0, i) + c + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
        assertSameOrFallThrough(mutated, SID);
      }),
      { numRuns: 3000 },
    );
  });

  void test('a frame longer than the message bound is never read by the byte path', () => {
    const text = markText({ sequence: '1', sid: SID, name: 'vw:0:0:0' });
    assert.equal(readTwilioMarkEchoOf(Buffer.from(text), text.length - 1, SID), undefined);
    assert.equal(readTwilioMarkEchoOf(Buffer.from(text), text.length, SID), 'vw:0:0:0');
  });

  void test('a known sid holding a character JSON must escape is never matched byte for byte', () => {
    const odd = 'MZ"x';
    const text = `{"event":"mark","sequenceNumber":"1","streamSid":"MZ"x","mark":{"name":"n"}}`;
    assert.equal(fastPath(text, odd), undefined);
    assert.equal(fastPath(markText({ sequence: '1', sid: 'MZé', name: 'n' }), 'MZé'), undefined);
  });
});
