import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  computeSignature,
  expectedStreamUrl,
  signatureUrlCandidates,
  signedString,
  validateSignature,
  validateStreamSignature,
} from '../../../src/transports/twilio/signature.js';

/**
 * An independent reimplementation from the documented steps (not from signature.ts): HMAC-SHA1
 * over url + name+value for names in sorted order, base64.
 */
function referenceSignature(token: string, url: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  const names = [...new Set(pairs.map(([n]) => n))].sort();
  const parts = [url];
  for (const name of names) {
    const values = [...new Set(pairs.filter(([n]) => n === name).map(([, v]) => v))].sort();
    for (const value of values) parts.push(`${name}${value}`);
  }
  return createHmac('sha1', Buffer.from(token, 'utf8')).update(parts.join(''), 'utf8').digest('base64');
}

/** What twilio-node's getExpectedTwilioSignature does: WHATWG-normalise the URL first. */
function twilioNodeSignature(token: string, url: string): string {
  return createHmac('sha1', token).update(new URL(url).toString(), 'utf8').digest('base64');
}

const DOC_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
function docParams(phone: string): Record<string, string> {
  return { CallSid: 'CA1234567890ABCDE', Caller: phone, Digits: '1234', From: phone, To: '+18005551212' };
}

void describe('X-Twilio-Signature: published vectors', () => {
  // Twilio's request-validation example (auth token "12345"). Two phone numbers circulate: the
  // twilio-php/twilio-python docs and twilio-node's own tests use +14158675309 with
  // "RSOYDt4T1cUTdK1PDd93/VVr8B8="; the current docs page uses +12349013030 with
  // "0/KCTR6DLpKmkAf8muzZqo1nDgQ=". Both are reproduced here.
  void test('the twilio-php documentation example (+14158675309) gives RSOYDt4T1cUTdK1PDd93/VVr8B8=', () => {
    assert.equal(computeSignature('12345', DOC_URL, docParams('+14158675309')), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    assert.ok(validateSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', DOC_URL, docParams('+14158675309')));
  });

  void test('the current documentation example (+12349013030) gives 0/KCTR6DLpKmkAf8muzZqo1nDgQ=', () => {
    assert.equal(computeSignature('12345', DOC_URL, docParams('+12349013030')), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    assert.ok(validateSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', DOC_URL, docParams('+12349013030')));
  });

  void test('the signed string is the URL then name+value in name order, no separators', () => {
    assert.equal(
      signedString(DOC_URL, docParams('+12349013030')),
      `${DOC_URL}CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212`,
    );
  });
});

void describe('X-Twilio-Signature: algorithm', () => {
  const pairArb = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 20 })), { maxLength: 12 });

  void test('matches an independent implementation for any parameters, repeated names included', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), pairArb, (token, pairs) => {
        const lists = new Map<string, string[]>();
        for (const [name, value] of pairs) lists.set(name, [...(lists.get(name) ?? []), value]);
        const expected = referenceSignature(token, DOC_URL, pairs);
        assert.equal(computeSignature(token, DOC_URL, lists), expected);
        assert.equal(computeSignature(token, DOC_URL, new URLSearchParams(pairs.map(([n, v]) => [n, v]))), expected);
        assert.equal(computeSignature(token, DOC_URL, Object.fromEntries(lists)), expected);
      }),
      { numRuns: 300 },
    );
  });

  void test('a repeated name contributes each distinct value once, values sorted', () => {
    const signed = signedString('https://a.example/x', { b: ['2', '1', '2'], a: 'z' });
    assert.equal(signed, 'https://a.example/xazb1b2');
  });

  void test('rejects a wrong token, a changed, missing or added parameter, another URL, or no header', () => {
    const params = docParams('+12349013030');
    const sig = computeSignature('12345', DOC_URL, params);
    assert.ok(validateSignature('12345', sig, DOC_URL, params));
    assert.equal(validateSignature('12346', sig, DOC_URL, params), false);
    assert.equal(validateSignature('12345', sig, DOC_URL, { ...params, Digits: '9' }), false);
    const { Digits: _dropped, ...missing } = params;
    assert.equal(validateSignature('12345', sig, DOC_URL, missing), false);
    assert.equal(validateSignature('12345', sig, DOC_URL, { ...params, Extra: '' }), false);
    assert.equal(validateSignature('12345', sig, 'https://mycompany.com/myapp.php?foo=1&bar=3', params), false);
    assert.equal(validateSignature('12345', undefined, DOC_URL, params), false);
    assert.equal(validateSignature('12345', '', DOC_URL, params), false);
    assert.equal(validateSignature('', computeSignature('', DOC_URL, params), DOC_URL, params), false);
    assert.equal(validateSignature('12345', `${sig}x`, DOC_URL, params), false);
    assert.equal(validateSignature('12345', sig.slice(0, -1), DOC_URL, params), false);
  });

  void test('accepts the URL with or without the default port, whichever Twilio signed', () => {
    for (const [signed, served] of [
      ['https://example.com:443/path?test=param', 'https://example.com/path?test=param'],
      ['https://example.com/path?test=param', 'https://example.com:443/path?test=param'],
      ['http://example.com:80/voice', 'http://example.com/voice'],
      ['http://example.com/voice', 'http://example.com:80/voice'],
      ['wss://example.com:443/twilio/media', 'wss://example.com/twilio/media'],
      ['wss://example.com/twilio/media', 'wss://example.com:443/twilio/media'],
    ] as const) {
      const sig = computeSignature('s3cr3t', signed, { A: '1' });
      assert.ok(validateSignature('s3cr3t', sig, served, { A: '1' }), `${signed} vs ${served}`);
    }
  });

  void test('does not accept another port than the default one', () => {
    const sig = computeSignature('s3cr3t', 'https://example.com:8443/path');
    assert.equal(validateSignature('s3cr3t', sig, 'https://example.com:9443/path'), false);
    assert.equal(validateSignature('s3cr3t', computeSignature('s3cr3t', 'https://example.com:443/path'), 'https://example.com:8443/path'), false);
  });

  void test("accepts every signature twilio-node's validateRequest accepts (its spec cases)", () => {
    const cases = [
      ['https://example.com:443/path?test=param', 'https://example.com:443/path?test=param'],
      ['https://example.com:443/path?test=param', 'https://example.com/path?test=param'],
      ['https://example.com/path?test=param', 'https://example.com/path?test=param'],
      ['https://example.com/path?test=param', 'https://example.com:443/path?test=param'],
      ["https://example.com/path?test=param'WithQuote", "https://example.com/path?test=param'WithQuote"],
      ["https://example.com/path?test=param'WithQuote", 'https://example.com/path?test=param%27WithQuote'],
      ['https://example.com/path?test=param%27WithQuote', "https://example.com/path?test=param'WithQuote"],
      ['https://example.com/path?test=param%27WithQuote', 'https://example.com/path?test=param%27WithQuote'],
    ] as const;
    for (const [server, target] of cases) {
      assert.ok(validateSignature('s3cr3t', twilioNodeSignature('s3cr3t', server), target), `${server} vs ${target}`);
    }
    assert.equal(validateSignature('s3cr3t', twilioNodeSignature('s3cr3t', 'https://example.com/path?test=param'), 'https://example.com/path?test=param2'), false);
  });

  void test('candidate URLs: as given first, then normalised and port variants, without duplicates', () => {
    assert.deepEqual(signatureUrlCandidates('https://example.com/a?x=1'), ['https://example.com/a?x=1', 'https://example.com:443/a?x=1']);
    assert.deepEqual(signatureUrlCandidates('https://example.com:443/a'), ['https://example.com:443/a', 'https://example.com/a']);
    assert.deepEqual(signatureUrlCandidates('not a url'), ['not a url']);
  });
});

void describe('Media Streams upgrade signature', () => {
  void test('is the HMAC of the wss:// URL alone and validates with or without :443', () => {
    const url = 'wss://voice.example.com/twilio/media';
    const sig = computeSignature('tok', url);
    assert.equal(sig, createHmac('sha1', 'tok').update(url).digest('base64'));
    assert.ok(validateStreamSignature('tok', sig, url));
    assert.ok(validateStreamSignature('tok', computeSignature('tok', 'wss://voice.example.com:443/twilio/media'), url));
    assert.equal(validateStreamSignature('tok', sig, 'https://voice.example.com/twilio/media'), false);
    assert.equal(validateStreamSignature('tok', sig, 'wss://voice.example.com/twilio/other'), false);
  });

  void test('expectedStreamUrl rebuilds wss:// from PUBLIC_URL, keeping a path prefix, else from Host', () => {
    assert.equal(expectedStreamUrl('https://voice.example.com', 'ignored:1', '/twilio/media'), 'wss://voice.example.com/twilio/media');
    assert.equal(expectedStreamUrl('https://voice.example.com:8443/gw/', undefined, '/twilio/media'), 'wss://voice.example.com:8443/gw/twilio/media');
    assert.equal(expectedStreamUrl('http://127.0.0.1:8080', undefined, '/twilio/media'), 'ws://127.0.0.1:8080/twilio/media');
    assert.equal(expectedStreamUrl(undefined, 'abc.ngrok.app', '/twilio/media'), 'wss://abc.ngrok.app/twilio/media');
    assert.equal(expectedStreamUrl(undefined, '[::1]:8080', '/twilio/media'), 'wss://[::1]:8080/twilio/media');
  });

  void test('expectedStreamUrl refuses a missing or malformed Host and a path with a query', () => {
    assert.equal(expectedStreamUrl(undefined, undefined, '/twilio/media'), undefined);
    for (const host of ['', 'a b', 'evil.com/x', 'evil.com"><x', 'user@host', 'host:port', 'host:123456']) {
      assert.equal(expectedStreamUrl(undefined, host, '/twilio/media'), undefined, host);
    }
    assert.equal(expectedStreamUrl('ftp://x', undefined, '/twilio/media'), undefined);
    assert.equal(expectedStreamUrl('https://x', undefined, 'twilio/media'), undefined);
    assert.equal(expectedStreamUrl('https://x', undefined, '/twilio/media?a=1'), undefined);
  });
});
