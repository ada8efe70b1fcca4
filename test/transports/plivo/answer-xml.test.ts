import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { extraHeadersOf, pickPlivoParameters, plivoStreamXml } from '../../../src/transports/plivo/answer-xml.js';

describe('Plivo answer XML', () => {
  test('a bidirectional μ-law stream that keeps the call alive, with sanitised extra headers', () => {
    assert.equal(
      plivoStreamXml('wss://gw.example/plivo/media', { CallUUID: 'ab-12', From: '+15550001' }),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000" extraHeaders="CallUUID=ab12,From=15550001">wss://gw.example/plivo/media</Stream></Response>',
    );
  });

  test('the webhook fields passed on are CallUUID, From, To and Direction', () => {
    assert.deepEqual(pickPlivoParameters({ CallUUID: 'c', From: 'f', To: 't', Direction: 'inbound', CallStatus: 'ringing' }), { CallUUID: 'c', From: 'f', To: 't', Direction: 'inbound' });
  });

  test('the stream URL is escaped as XML text', () => {
    assert.match(plivoStreamXml('wss://h/p?a=1&b=2'), />wss:\/\/h\/p\?a=1&amp;b=2<\/Stream>/);
  });

  test('extra headers keep only letters and digits and stop at 512 bytes', () => {
    assert.equal(extraHeadersOf({ 'a-b': 'x&y', empty: '', '': 'v' }), 'ab=xy');
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    const extra = extraHeadersOf(many);
    assert.ok(extra.length <= 512 && extra.length > 480, `${extra.length}`);
    assert.match(extra, /^(k\d+=v+)(,k\d+=v+)*$/);
  });
});
