/**
 * Token buckets, one per key (a client address, a tracker): `ratePerSecond` tokens refill up
 * to `burst`. A rate of 0 turns the limit off. The map of buckets is bounded.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Takes a token: 0 if allowed, else milliseconds until the next token. */
  take(key: string, now: number): number {
    if (!this.enabled) return 0;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.ratePerSecond) * 1000);
  }
}

/** The configured limits (rateLimits): per client address and per tracker. */
export class RateLimits {
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
