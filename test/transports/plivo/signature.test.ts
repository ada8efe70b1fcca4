import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { computePlivoSignature, plivoSignedUrl, validatePlivoSignature } from '../../../src/transports/plivo/signature.js';

const TOKEN = 'MzY4ZmQ2YjQ1ZjVkOTlhNjc4ZTY5MWRhNzA0NTk2';
const form = (entries: Array<[string, string]>): Map<string, string[]> => {
  const map = new Map<string, string[]>();
  for (const [k, v] of entries) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
};
const hmac = (text: string): string => createHmac('sha256', TOKEN).update(text).digest('base64');

describe('X-Plivo-Signature-V3', () => {
  test('POST: the URL, "?", then name+value of the sorted form fields, no separators (as plivo-node)', () => {
    const params = form([['To', '+15550002'], ['From', '+15550001'], ['CallUUID', 'c1']]);
    assert.equal(plivoSignedUrl('POST', 'https://gw.example/plivo/answer', params), 'https://gw.example/plivo/answer?CallUUIDc1From+15550001To+15550002');
    assert.equal(computePlivoSignature(TOKEN, 'n-1', 'POST', 'https://gw.example/plivo/answer', params), hmac('https://gw.example/plivo/answer?CallUUIDc1From+15550001To+15550002.n-1'));
  });

  test('POST with a query: sorted k=v pairs, a ".", then the form fields; repeated values sorted', () => {
    const params = form([['b', '2'], ['b', '1']]);
    assert.equal(plivoSignedUrl('POST', 'https://gw.example/plivo/answer?z=9&a=1', params), 'https://gw.example/plivo/answer?a=1&z=9.b1b2');
  });

  test('GET: the URL with its query sorted; no "?" without one; the port is kept', () => {
    assert.equal(plivoSignedUrl('GET', 'https://gw.example:8443/plivo/answer?To=2&From=1'), 'https://gw.example:8443/plivo/answer?From=1&To=2');
    assert.equal(plivoSignedUrl('GET', 'wss://gw.example/plivo/media'), 'wss://gw.example/plivo/media');
  });

  test('validation accepts any listed signature for any candidate URL, and nothing else', () => {
    const params = form([['CallUUID', 'c1']]);
    const good = computePlivoSignature(TOKEN, 'n', 'POST', 'https://b.example/x', params)!;
    assert.equal(validatePlivoSignature(TOKEN, `bogus,${good}`, 'n', 'POST', ['https://a.example/x', 'https://b.example/x'], params), true);
    assert.equal(validatePlivoSignature(TOKEN, good, 'other-nonce', 'POST', ['https://b.example/x'], params), false);
    assert.equal(validatePlivoSignature(TOKEN, good, 'n', 'POST', ['https://b.example/x'], form([['CallUUID', 'c2']])), false);
    assert.equal(validatePlivoSignature('other', good, 'n', 'POST', ['https://b.example/x'], params), false);
    assert.equal(validatePlivoSignature(TOKEN, undefined, 'n', 'POST', ['https://b.example/x'], params), false);
    assert.equal(validatePlivoSignature(TOKEN, good, undefined, 'POST', ['https://b.example/x'], params), false);
    assert.equal(validatePlivoSignature('', good, 'n', 'POST', ['https://b.example/x'], params), false);
  });

  test('a signature of one request never validates a different form (property)', () => {
    const field = fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(field, { maxLength: 5 }), fc.array(field, { maxLength: 5 }), (a, b) => {
        const fa = form(a);
        const fb = form(b);
        const sig = computePlivoSignature(TOKEN, 'n', 'POST', 'https://gw.example/plivo/answer', fa)!;
        const same = plivoSignedUrl('POST', 'https://gw.example/plivo/answer', fa) === plivoSignedUrl('POST', 'https://gw.example/plivo/answer', fb);
        assert.equal(validatePlivoSignature(TOKEN, sig, 'n', 'POST', ['https://gw.example/plivo/answer'], fb), same);
      }),
      { numRuns: 300 },
    );
  });
});
