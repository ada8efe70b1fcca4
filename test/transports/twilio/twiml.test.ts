import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import { escapeXmlAttribute, pickCallParameters, streamTwiml, truncateSafely } from '../../../src/transports/twilio/twiml.js';

/** Any UTF-16 text, lone surrogates and control characters included (fast, unlike unit 'binary'). */
function anyText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));
}

/** Attribute values of every `<Parameter>` (a minimal reader for the documents we produce). */
function parameters(xml: string): Array<[string, string]> {
  const decode = (s: string): string =>
    s.replace(/&(amp|lt|gt|quot|apos|#9|#10|#13);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#9': '\t', '#10': '\n', '#13': '\r' })[e] ?? '');
  return [...xml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [decode(m[1] ?? ''), decode(m[2] ?? '')]);
}

void describe('TwiML for POST /twilio/voice', () => {
  void test('is a bidirectional <Connect><Stream> with call data as <Parameter>s', () => {
    const xml = streamTwiml({ streamUrl: 'wss://voice.example.com/twilio/media', parameters: { CallSid: 'CA1', From: '+15551234567' } });
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://voice.example.com/twilio/media">' +
        '<Parameter name="CallSid" value="CA1"/><Parameter name="From" value="+15551234567"/></Stream></Connect></Response>',
    );
  });

  void test('escapes markup in names, values and attributes', () => {
    const xml = streamTwiml({ streamUrl: 'wss://h/twilio/media', name: 'a"b', parameters: { 'x"<': `<&>"'` } });
    assert.ok(xml.includes('name="a&quot;b"'));
    assert.deepEqual(parameters(xml), [['x"<', `<&>"'`]]);
    assert.equal(xml.match(/</g)?.length, xml.match(/>/g)?.length);
  });

  void test('any parameter value survives escaping (minus characters XML cannot carry)', () => {
    fc.assert(
      fc.property(anyText(60), (value) => {
        const xml = streamTwiml({ streamUrl: 'wss://h/p', parameters: { v: value }, maxParameterChars: 1000 });
        const [[, parsed] = ['', '']] = parameters(xml);
        const allowed = value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
        assert.equal(parsed, allowed);
      }),
      { numRuns: 500 },
    );
  });

  void test('bounds the number of parameters and the length of each', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, 'x'.repeat(1000)]));
    const xml = streamTwiml({ streamUrl: 'wss://h/p', parameters: many, maxParameters: 5, maxParameterChars: 100 });
    const found = parameters(xml);
    assert.equal(found.length, 5);
    for (const [name, value] of found) assert.ok(name.length + value.length <= 100);
  });

  void test('truncation never splits a surrogate pair', () => {
    assert.equal(truncateSafely('ab😀cd', 3), 'ab');
    assert.equal(truncateSafely('ab😀cd', 4), 'ab😀');
    assert.equal(truncateSafely('abc', 10), 'abc');
    assert.equal(truncateSafely('abc', 0), '');
    const xml = streamTwiml({ streamUrl: 'wss://h/p', parameters: { n: '😀'.repeat(100) }, maxParameterChars: 10 });
    assert.deepEqual(parameters(xml), [['n', '😀'.repeat(4)]]);
  });

  void test('refuses a stream URL with a query string, a fragment, or a non-WebSocket scheme', () => {
    for (const url of ['wss://h/p?callSid=CA1', 'wss://h/p#x', 'https://h/p', '/twilio/media', 'wss://h/p?']) {
      assert.throws(() => streamTwiml({ streamUrl: url }), (err: unknown) => isVoicewireError(err, 'VW_ERR_CONFIG'), url);
    }
  });

  void test('removes control characters XML 1.0 cannot carry even escaped', () => {
    assert.equal(escapeXmlAttribute('a\u0000b\u0007c\td'), 'abc&#9;d');
  });

  void test('pickCallParameters takes the listed webhook fields present, first value of repeats', () => {
    const form = new Map<string, string[]>([
      ['CallSid', ['CA1']],
      ['From', ['+1555', '+1666']],
      ['Secret', ['x']],
    ]);
    assert.deepEqual(pickCallParameters(form), { CallSid: 'CA1', From: '+1555' });
    assert.deepEqual(pickCallParameters(new URLSearchParams('To=%2B1777&CallSid=CA2')), { CallSid: 'CA2', To: '+1777' });
    assert.deepEqual(pickCallParameters({ CallSid: 'CA3', Direction: 'inbound', toString: 'x' }, ['CallSid', 'Direction', 'hasOwnProperty']), { CallSid: 'CA3', Direction: 'inbound' });
  });
});
