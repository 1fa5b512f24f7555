/**
 * Token buckets, one per key (a client address, a tracker): `ratePerSecond` tokens refill up
 * to `burst`. A rate of 0 turns the limit off.
 *
 * The buckets live in a fixed table in shared memory (a SharedArrayBuffer), so every request
 * thread of `workers` takes from the same bucket: a client's limit is the same whichever
 * thread its connections land on. A key is looked for by its 32-bit hash in a few slots from
 * where the hash points; when those all hold other keys, the one used longest ago gives way
 * (as the oldest key of a bounded map would). Two keys with the same hash share a bucket,
 * which is stricter, never looser. Each slot has a lock held for a few instructions.
 */
const SLOTS = 1 << 17;
const PROBES = 8;
/** Per slot: hash and lock (two Int32), tokens and last time (two Float64). */
const INT_BYTES = SLOTS * 2 * 4;
const BYTES = INT_BYTES + SLOTS * 2 * 8;

/** FNV-1a over the key's UTF-16 code units; never 0 (0 marks an empty slot). */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}

export class TokenBuckets {
  /** The table, to hand to another thread (null when the limit is off). */
  readonly buffer: SharedArrayBuffer | null;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    buffer?: SharedArrayBuffer | null,
  ) {
    this.buffer = ratePerSecond > 0 ? (buffer ?? new SharedArrayBuffer(BYTES)) : null;
    this.ints = this.buffer ? new Int32Array(this.buffer, 0, SLOTS * 2) : new Int32Array(0);
    this.floats = this.buffer
      ? new Float64Array(this.buffer, INT_BYTES, SLOTS * 2)
      : new Float64Array(0);
  }

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Takes a token: 0 if allowed, else milliseconds until the next token. */
  take(key: string, now: number): number {
    if (!this.enabled) return 0;
    const slot = this.claim(hash(key), now);
    const { floats } = this;
    const tokens = Math.min(
      this.burst,
      floats[2 * slot]! + (Math.max(0, now - floats[2 * slot + 1]!) / 1000) * this.ratePerSecond,
    );
    floats[2 * slot + 1] = Math.max(now, floats[2 * slot + 1]!);
    const allowed = tokens >= 1;
    floats[2 * slot] = allowed ? tokens - 1 : tokens;
    this.unlock(slot);
    return allowed ? 0 : Math.ceil(((1 - tokens) / this.ratePerSecond) * 1000);
  }

  /** The slot of this hash, locked: found, or taken (a free one, else the one used longest ago). */
  private claim(h: number, now: number): number {
    const { ints, floats } = this;
    const start = h & (SLOTS - 1);
    let oldest = start;
    let oldestAt = Infinity;
    for (let p = 0; p < PROBES; p++) {
      const slot = (start + p) & (SLOTS - 1);
      this.lock(slot);
      const stored = ints[2 * slot]!;
      if (stored === h) return slot;
      if (stored === 0) return this.fill(slot, h, now);
      if (floats[2 * slot + 1]! < oldestAt) {
        oldestAt = floats[2 * slot + 1]!;
        oldest = slot;
      }
      this.unlock(slot);
    }
    this.lock(oldest);
    return ints[2 * oldest] === h ? oldest : this.fill(oldest, h, now);
  }

  /** A full bucket for this hash in the locked slot. */
  private fill(slot: number, h: number, now: number): number {
    this.ints[2 * slot] = h;
    this.floats[2 * slot] = this.burst;
    this.floats[2 * slot + 1] = now;
    return slot;
  }

  private lock(slot: number): void {
    while (Atomics.compareExchange(this.ints, 2 * slot + 1, 0, 1) !== 0);
  }

  private unlock(slot: number): void {
    Atomics.store(this.ints, 2 * slot + 1, 0);
  }
}

/** The tables of a RateLimits, to share with another thread. */
export interface RateLimitTables {
  perIp: SharedArrayBuffer | null;
  perTracker: SharedArrayBuffer | null;
}

/** The configured limits (rateLimits): per client address and per tracker. */
export class RateLimits {
  private readonly perIp: TokenBuckets;
  private readonly perTracker: TokenBuckets;

  /** With `tables` (another thread's RateLimits.tables), the buckets are that thread's too. */
  constructor(
    config: {
      perIp: { ratePerSecond: number; burst: number };
      perTracker: { ratePerSecond: number; burst: number };
    },
    tables?: RateLimitTables,
  ) {
    this.perIp = new TokenBuckets(config.perIp.ratePerSecond, config.perIp.burst, tables?.perIp);
    this.perTracker = new TokenBuckets(
      config.perTracker.ratePerSecond,
      config.perTracker.burst,
      tables?.perTracker,
    );
  }

  get tables(): RateLimitTables {
    return { perIp: this.perIp.buffer, perTracker: this.perTracker.buffer };
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
