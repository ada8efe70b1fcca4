/**
 * Short-lived, single-use session tokens for browsers (POST /session mints one, the WebSocket
 * upgrade consumes it). Pure: no HTTP, no timers; `now` is injectable.
 *
 * A token is `<id>.<expiresAt>.<sig>`: a random 128-bit id (base64url), the expiry in ms since the
 * epoch (decimal) and HMAC-SHA256(secret, "vw1.<id>.<expiresAt>") (base64url). Verification needs
 * only the secret, so any instance sharing it can check a token; single use is enforced by the set
 * of ids consumed here, kept until they expire and bounded by `maxOutstanding`. When that set is
 * full of unexpired ids, minting is refused (VW_ERR_TOKEN_STORE_FULL) and consuming fails closed
 * (reason `capacity`): a replay is never let through for lack of memory.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { vwError, type VoicewireError } from '../errors.js';

export interface SessionTokensOptions {
  /** HMAC key; at least 16 bytes. */
  readonly secret: Buffer | string;
  /** Lifetime of a token. Default 60 000 ms. */
  readonly ttlMs?: number;
  /** Most consumed-but-unexpired token ids remembered. Default 10 000. */
  readonly maxOutstanding?: number;
}

export interface MintedToken {
  readonly token: string;
  /** Expiry, ms since the Unix epoch. */
  readonly expiresAt: number;
}

export type TokenRefusal = 'malformed' | 'bad-signature' | 'expired' | 'used' | 'capacity';

export type ConsumeResult =
  | { readonly ok: true; readonly expiresAt: number }
  | { readonly ok: false; readonly error: VoicewireError; readonly reason: TokenRefusal };

const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/;
const MAX_TOKEN_CHARS = 96;
const MIN_SECRET_BYTES = 16;
const SIGNATURE_PREFIX = 'vw1.';

export class SessionTokens {
  readonly ttlMs: number;
  readonly maxOutstanding: number;
  private readonly secret: Buffer;
  /** id → expiresAt of consumed tokens. Insertion order ≈ expiry order (one ttl for all). */
  private readonly used = new Map<string, number>();

  constructor(options: SessionTokensOptions) {
    const secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
    if (secret.length < MIN_SECRET_BYTES) throw vwError('VW_ERR_CONFIG', `session secret must be at least ${MIN_SECRET_BYTES} bytes`);
    const ttlMs = options.ttlMs ?? 60_000;
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw vwError('VW_ERR_CONFIG', `token ttlMs must be a positive integer (got ${ttlMs})`);
    const maxOutstanding = options.maxOutstanding ?? 10_000;
    if (!Number.isInteger(maxOutstanding) || maxOutstanding <= 0) {
      throw vwError('VW_ERR_CONFIG', `token maxOutstanding must be a positive integer (got ${maxOutstanding})`);
    }
    this.secret = secret;
    this.ttlMs = ttlMs;
    this.maxOutstanding = maxOutstanding;
  }

  /** Consumed ids still remembered (≤ maxOutstanding). */
  get usedCount(): number {
    return this.used.size;
  }

  /** A new token valid for `ttlMs`. Throws VW_ERR_TOKEN_STORE_FULL when it could not be consumed. */
  mint(now: number = Date.now()): MintedToken {
    this.prune(now);
    if (this.used.size >= this.maxOutstanding) throw vwError('VW_ERR_TOKEN_STORE_FULL', this.used.size);
    const id = randomBytes(16).toString('base64url');
    const expiresAt = Math.floor(now) + this.ttlMs;
    return { token: `${id}.${expiresAt}.${this.sign(id, expiresAt)}`, expiresAt };
  }

  /** Checks `token` and marks it used; a token is accepted at most once. */
  consume(token: unknown, now: number = Date.now()): ConsumeResult {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return refuse('malformed');
    const match = TOKEN_SHAPE.exec(token);
    if (!match) return refuse('malformed');
    const [, id, expiry, signature] = match as unknown as [string, string, string, string];
    const expiresAt = Number(expiry);
    const expected = Buffer.from(this.sign(id, expiresAt), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return refuse('bad-signature');
    if (now >= expiresAt) return refuse('expired');
    if (this.used.has(id)) return refuse('used');
    this.prune(now);
    if (this.used.size >= this.maxOutstanding) return refuse('capacity');
    this.used.set(id, expiresAt);
    return { ok: true, expiresAt };
  }

  private sign(id: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${SIGNATURE_PREFIX}${id}.${expiresAt}`).digest('base64url');
  }

  /** Forgets consumed ids that have expired (an expired token is refused on its expiry anyway). */
  private prune(now: number): void {
    for (const [id, expiresAt] of this.used) {
      if (expiresAt > now) {
        // Entries are in consumption order, which is close to expiry order (one ttl for all), so
        // the front holds most expired ids; the full sweep below runs only when the set is full.
        if (this.used.size < this.maxOutstanding) return;
        break;
      }
      this.used.delete(id);
    }
    if (this.used.size < this.maxOutstanding) return;
    for (const [id, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(id);
  }
}

function refuse(reason: TokenRefusal): ConsumeResult {
  return { ok: false, error: vwError('VW_ERR_BAD_TOKEN'), reason };
}
