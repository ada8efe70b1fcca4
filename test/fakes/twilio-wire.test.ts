import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readServerMessage, TwilioServerReader } from './twilio-wire.js';

const SID = 'MZ0123456789abcdef0123456789abcdef';

/** What the gateway sends (src/transports/media-stream/stream-serializers.ts) and the naive forwarder too. */
const compact = {
  media: (sid: string, payload: string) => `{"event":"media","streamSid":${JSON.stringify(sid)},"media":{"payload":"${payload}"}}`,
  mark: (sid: string, nameLiteral: string) => `{"event":"mark","streamSid":${JSON.stringify(sid)},"mark":{"name":${nameLiteral}}}`,
  clear: (sid: string) => `{"event":"clear","streamSid":${JSON.stringify(sid)}}`,
};

/** Strings near base64: its alphabet, padding, and what breaks it (quote, backslash, space, url-safe chars, non-ASCII). */
const base64ish = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', '=', '=', '-', '_', ' ', '\n', '"', '\\', 'é'), maxLength: 40 });
const canonicalPayload = fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const sid = fc.oneof(fc.constant(SID), fc.constant('MZ0123456789abcdef0123456789abcdee'), fc.string({ maxLength: 8 }));
const markName = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', '"', '\\', '\u0000', '\u001f', '\u2028', 'a"}}'));

/** Texts in and around the compact layout, plus damaged ones. */
const serverText = fc.oneof(
  fc.tuple(sid, fc.oneof(canonicalPayload, base64ish)).map(([s, p]) => compact.media(s, p)),
  fc.tuple(sid, markName).map(([s, n]) => compact.mark(s, JSON.stringify(n))),
  // The name literal as raw text: quotes, backslashes, control chars unescaped (often not JSON).
  fc.tuple(sid, markName).map(([s, n]) => compact.mark(s, `"${n}"`)),
  sid.map(compact.clear),
  // Cut or extended at either end, and the other layouts (the strict reader's job alone).
  fc.tuple(fc.oneof(canonicalPayload.map((p) => compact.media(SID, p)), markName.map((n) => compact.mark(SID, JSON.stringify(n)))), fc.nat(), fc.string({ maxLength: 4 })).map(
    ([text, cut, extra]) => text.slice(0, text.length - (cut % 6)) + extra,
  ),
  canonicalPayload.map((p) => JSON.stringify({ streamSid: SID, event: 'media', media: { payload: p } })),
  canonicalPayload.map((p) => JSON.stringify({ event: 'media', streamSid: SID, media: { payload: p, track: 'outbound' } })),
  fc.string({ maxLength: 60 }),
);

void describe('TwilioServerReader (the strict reader with a fast path for the compact layout)', () => {
  void test('gives the strict reader verdict and bytes for every text (fast-check)', () => {
    const reader = new TwilioServerReader(SID);
    fc.assert(
      fc.property(serverText, (text) => {
        assert.deepEqual(reader.read(text), readServerMessage(text, SID));
      }),
      { numRuns: 5_000 },
    );
  });

  void test('whenever the fast path answers, the strict reader agrees (fast-check)', () => {
    const reader = new TwilioServerReader(SID);
    fc.assert(
      fc.property(serverText, (text) => {
        const fast = reader.readFast(text);
        if (fast !== undefined) assert.deepEqual(fast, readServerMessage(text, SID));
      }),
      { numRuns: 5_000 },
    );
  });

  void test('the fast path takes what the gateway sends: canonical media, plain mark names, clear', () => {
    const reader = new TwilioServerReader(SID);
    fc.assert(
      fc.property(canonicalPayload, (payload) => {
        assert.deepEqual(reader.readFast(compact.media(SID, payload)), { event: 'media', bytes: new Uint8Array(Buffer.from(payload, 'base64')) });
      }),
    );
    assert.deepEqual(reader.readFast(compact.mark(SID, JSON.stringify('r1:42'))), { event: 'mark', name: 'r1:42' });
    assert.deepEqual(reader.readFast(compact.mark(SID, JSON.stringify('é ☎'))), { event: 'mark', name: 'é ☎' });
    assert.deepEqual(reader.readFast(compact.clear(SID)), { event: 'clear' });
  });

  void test('leaves to the strict reader what it cannot be sure of', () => {
    const reader = new TwilioServerReader(SID);
    const prefix = `{"event":"mark","streamSid":"${SID}","mark":{"name":"`;
    for (const text of [
      `${prefix}}}`, // the prefix's own quote is not a closing one: not JSON
      compact.mark(SID, JSON.stringify('a"b')), // escaped name
      compact.media(SID, 'AB=='), // padding bits set: BASE64 accepts it, Node would not encode it so
      compact.media(SID, ''),
      compact.media('MZother', 'AAAA'),
    ]) assert.equal(reader.readFast(text), undefined, text);
    assert.deepEqual(reader.read(`${prefix}}}`), readServerMessage(`${prefix}}}`, SID));
    assert.equal((reader.read(`${prefix}}}`) as { violation: string }).violation, 'bad-json');
    assert.deepEqual(reader.read(compact.media(SID, 'AB==')), { event: 'media', bytes: new Uint8Array([0]) });
    assert.equal((reader.read(compact.media('MZother', 'AAAA')) as { violation: string }).violation, 'wrong-stream');
  });
});
