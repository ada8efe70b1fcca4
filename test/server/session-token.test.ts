import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionTokens, type ConsumeResult, type TokenRefusal } from '../../src/server/session-token.js';
import { isVoicewireError } from '../../src/errors.js';
import { throwsWithCode } from '../flow/helpers.js';

const SECRET = 'a test secret of enough bytes';
const T0 = 1_700_000_000_000;

function refused(result: ConsumeResult, reason: TokenRefusal): void {
  assert.equal(result.ok, false, `expected ${reason}, got ok`);
  if (result.ok) return;
  assert.equal(result.reason, reason);
  assert.ok(isVoicewireError(result.error, 'VW_ERR_BAD_TOKEN'));
}

describe('SessionTokens', () => {
  test('a fresh token is accepted once and expires after ttlMs', () => {
    const tokens = new SessionTokens({ secret: SECRET, ttlMs: 60_000 });
    const { token, expiresAt } = tokens.mint(T0);
    assert.equal(expiresAt, T0 + 60_000);
    assert.deepEqual(tokens.consume(token, T0 + 1_000), { ok: true, expiresAt });
    refused(tokens.consume(token, T0 + 2_000), 'used');
  });

  test('an expired token is refused, even if never used', () => {
    const tokens = new SessionTokens({ secret: SECRET, ttlMs: 1_000 });
    const { token } = tokens.mint(T0);
    refused(tokens.consume(token, T0 + 1_000), 'expired');
    refused(tokens.consume(token, T0 + 10_000), 'expired');
  });

  test('a token signed with another secret, or with any character changed, is refused', () => {
    const mine = new SessionTokens({ secret: SECRET });
    const theirs = new SessionTokens({ secret: Buffer.from('another secret, also long enough') });
    refused(mine.consume(theirs.mint(T0).token, T0), 'bad-signature');
    const { token } = mine.mint(T0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: token.length - 1 }), fc.constantFrom(...'ABCxyz019-_'), (index, char) => {
        fc.pre(token[index] !== char && token[index] !== '.');
        const tampered = token.slice(0, index) + char + token.slice(index + 1);
        const result = mine.consume(tampered, T0);
        assert.equal(result.ok, false);
        if (!result.ok) assert.ok(['bad-signature', 'malformed'].includes(result.reason), result.reason);
      }),
    );
    // Extending the expiry is tampering too.
    const [id, expiry, sig] = token.split('.');
    refused(mine.consume(`${id}.${Number(expiry) + 3_600_000}.${sig}`, T0), 'bad-signature');
    assert.ok(mine.consume(token, T0).ok, 'the original still works after the attempts');
  });

  test('malformed input is refused without throwing', () => {
    const tokens = new SessionTokens({ secret: SECRET });
    for (const bad of ['', 'abc', 'a.b.c', '....', 'x'.repeat(500), undefined, null, 42, {}]) refused(tokens.consume(bad, T0), 'malformed');
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const result = tokens.consume(text, T0);
        assert.equal(result.ok, false);
      }),
    );
  });

  test('the used set is bounded: when full of unexpired ids, minting and consuming are refused', () => {
    const tokens = new SessionTokens({ secret: SECRET, ttlMs: 1_000, maxOutstanding: 3 });
    const minted = [tokens.mint(T0), tokens.mint(T0), tokens.mint(T0), tokens.mint(T0)];
    for (const m of minted.slice(0, 3)) assert.ok(tokens.consume(m.token, T0 + 10).ok);
    assert.equal(tokens.usedCount, 3);
    refused(tokens.consume(minted[3]!.token, T0 + 10), 'capacity');
    throwsWithCode(() => tokens.mint(T0 + 10), 'VW_ERR_TOKEN_STORE_FULL');
    // Once they expire the set empties itself and minting works again.
    const later = tokens.mint(T0 + 1_000);
    assert.ok(tokens.consume(later.token, T0 + 1_001).ok);
    assert.equal(tokens.usedCount, 1);
  });

  test('memory never exceeds maxOutstanding over a long run', () => {
    const tokens = new SessionTokens({ secret: SECRET, ttlMs: 100, maxOutstanding: 50 });
    for (let t = 0; t < 5_000; t++) {
      const now = T0 + t;
      try {
        const { token } = tokens.mint(now);
        tokens.consume(token, now);
      } catch (err) {
        assert.ok(isVoicewireError(err, 'VW_ERR_TOKEN_STORE_FULL'));
      }
      assert.ok(tokens.usedCount <= 50);
    }
  });

  test('a short secret or a bad option is a configuration error', () => {
    throwsWithCode(() => new SessionTokens({ secret: 'short' }), 'VW_ERR_CONFIG');
    throwsWithCode(() => new SessionTokens({ secret: SECRET, ttlMs: 0 }), 'VW_ERR_CONFIG');
    throwsWithCode(() => new SessionTokens({ secret: SECRET, maxOutstanding: -1 }), 'VW_ERR_CONFIG');
  });
});
