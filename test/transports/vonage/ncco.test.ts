import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mediaGrantQuery, pickVonageHeaders, verifyMediaGrant } from '../../../src/transports/vonage/ncco.js';

const SECRET = 'vonage-signature-secret-0123456789';
const NOW = 1_800_000_000;

describe('media grants', () => {
  test('a grant is valid for its call until it expires, and only under its secret', () => {
    const query = new URLSearchParams(mediaGrantQuery(SECRET, 'call-1', NOW).slice(1));
    assert.equal(verifyMediaGrant(SECRET, query, NOW + 1), true);
    assert.equal(verifyMediaGrant(SECRET, query, NOW + 301), false);
    assert.equal(verifyMediaGrant('other', query, NOW + 1), false);
    const forged = new URLSearchParams(query);
    forged.set('call', 'call-2');
    assert.equal(verifyMediaGrant(SECRET, forged, NOW + 1), false);
    const later = new URLSearchParams(query);
    later.set('exp', String(NOW + 10_000));
    assert.equal(verifyMediaGrant(SECRET, later, NOW + 1), false);
    assert.equal(verifyMediaGrant(SECRET, new URLSearchParams(''), NOW), false);
  });

  test('headers passed to the stream are the call ids and numbers, within 512 bytes', () => {
    assert.deepEqual(pickVonageHeaders({ uuid: 'u', conversation_uuid: 'c', from: '1', to: '2', region_url: 'x', n: 5 }), { uuid: 'u', conversation_uuid: 'c', from: '1', to: '2' });
    const long = pickVonageHeaders({ uuid: 'u'.repeat(300), conversation_uuid: 'c'.repeat(300) });
    assert.deepEqual(Object.keys(long), ['uuid']);
  });
});
