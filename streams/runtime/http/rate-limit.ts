// Per-key token buckets: a key may make `burst` requests at once, then `per_second` a second.
// In memory, one bucket per key id (bounded by the keys file, pruned when keys go), so a limit holds
// per API process; several instances behind a balancer each allow the full rate.
import type { RateLimit } from './api-keys.ts';

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly fallback: RateLimit;
  private readonly now: () => number;

  constructor(fallback: RateLimit, now: () => number = Date.now) {
    this.fallback = fallback;
    this.now = now;
  }

  /** Takes one token; returns 0 if there was one, else the whole seconds until there will be (>= 1). */
  take(id: string, limit: RateLimit = this.fallback): number {
    const now = this.now();
    const bucket = this.buckets.get(id) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.per_second);
    bucket.at = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.per_second));
  }

  /** Drops the buckets of keys no longer in force. */
  retain(ids: Set<string>): void {
    for (const id of this.buckets.keys()) if (!ids.has(id)) this.buckets.delete(id);
  }
}
