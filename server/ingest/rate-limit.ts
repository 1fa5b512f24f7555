/**
 * Token buckets, one per key (a client address, a tracker): `ratePerSecond` tokens refill up
 * to `burst`. A rate of 0 turns the limit off.
 *
 * One bucket per exact key, in process memory: no two keys ever share one. The map is kept
 * small by forgetting buckets that have refilled (forgetting a full bucket changes nothing:
 * it comes back full). Past `maxKeys` buckets still refilling, the ones closest to full go
 * first; a bucket that is limiting its client right now (less than one token) is never
 * forgotten, so no flood of fresh addresses can reset a limited client's bucket.
 */

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

/** Buckets kept before forgetting any that are not yet full (about 100 bytes each). */
const MAX_KEYS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  /** The map's size at which the next sweep runs. */
  private sweepAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.sweepAt = maxKeys;
  }

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** How many keys have a bucket now (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token: 0 if allowed, else milliseconds until the next token. */
  take(key: string, now: number): number {
    if (!this.enabled) return 0;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    }
    const tokens = this.tokensAt(bucket, now);
    bucket.at = Math.max(now, bucket.at);
    if (tokens >= 1) {
      bucket.tokens = tokens - 1;
      return 0;
    }
    bucket.tokens = tokens;
    return Math.ceil(((1 - tokens) / this.ratePerSecond) * 1000);
  }

  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(
      this.burst,
      bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.ratePerSecond,
    );
  }

  /**
   * Forgets every full bucket; if more than 90% of maxKeys remain, forgets the fullest of
   * those not limiting anyone down to that. Limited buckets all stay, so the next sweep waits
   * for a quarter of maxKeys more keys (a sweep costs a pass over the map).
   */
  private sweep(now: number): void {
    const partial: [string, number][] = [];
    for (const [key, bucket] of this.buckets) {
      const tokens = this.tokensAt(bucket, now);
      if (tokens >= this.burst) this.buckets.delete(key);
      else if (tokens >= 1) partial.push([key, tokens]);
    }
    const keep = Math.floor(this.maxKeys * 0.9);
    if (this.buckets.size > keep) {
      partial.sort((a, b) => b[1] - a[1]);
      for (const [key] of partial) {
        if (this.buckets.size <= keep) break;
        this.buckets.delete(key);
      }
    }
    this.sweepAt = Math.max(this.maxKeys, this.buckets.size + Math.ceil(this.maxKeys / 4));
  }
}

/** The configured limits (rateLimits): per client address and per tracker. */
export class RateLimiter {
  private readonly perIp: TokenBuckets;
  private readonly perTracker: TokenBuckets;

  constructor(config: {
    perIp: { ratePerSecond: number; burst: number };
    perTracker: { ratePerSecond: number; burst: number };
  }) {
    this.perIp = new TokenBuckets(config.perIp.ratePerSecond, config.perIp.burst);
    this.perTracker = new TokenBuckets(config.perTracker.ratePerSecond, config.perTracker.burst);
  }

  /** Takes a token for this address and tracker: 0 if allowed, else milliseconds to wait. Off by default: no keys built then. */
  take(ip: string | null, accountId: string | null, trackerId: string | null, now: number): number {
    const byIp = this.perIp.enabled ? this.perIp.take(ip ?? "unknown", now) : 0;
    const byTracker =
      this.perTracker.enabled && accountId && trackerId
        ? this.perTracker.take(`${accountId}/${trackerId}`, now)
        : 0;
    return Math.max(byIp, byTracker);
  }
}
