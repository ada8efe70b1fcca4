/**
 * Per-client-address token buckets (webhooks, upgrades). Each address gets `burst` tokens that
 * refill at `perSecond`; a request takes one or is refused. The map of addresses is bounded: past
 * `maxAddresses` the least recently seen address is forgotten (its next request starts with a full
 * bucket, which only ever errs towards letting a request through).
 */
import type { RateLimit } from './fleet-config.js';

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, the limiter's clock). */
  at: number;
}

export interface RateLimiterOptions extends RateLimit {
  readonly maxAddresses: number;
  readonly now?: () => number;
}

export class RateLimiter {
  /** Insertion order is recency order: a touched address is moved to the end. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    if (!(options.perSecond >= 0) || !(options.burst >= 1) || !(options.maxAddresses >= 1)) {
      throw new RangeError(`bad rate limit ${options.perSecond}/s, burst ${options.burst}, ${options.maxAddresses} addresses`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** Addresses currently tracked (≤ maxAddresses). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for `address`; false when its bucket is empty. Always true when the limit is off. */
  take(address: string): boolean {
    if (this.options.perSecond === 0) return true;
    const now = this.now();
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      bucket = { tokens: this.options.burst, at: now };
      if (this.buckets.size >= this.options.maxAddresses) this.forgetOldest();
    } else {
      this.buckets.delete(address);
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond);
      bucket.at = now;
    }
    this.buckets.set(address, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
