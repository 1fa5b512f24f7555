import { describe, expect, test } from "bun:test";
import { RateLimiter, TokenBuckets } from "../../server/ingest/rate-limit.ts";

/** The n-th address of the loopback range 127.0.0.0/8 (16 million of them). */
const loopback = (n: number) => `127.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe("token buckets", () => {
  test("a burst, then the rate, and how long to wait", () => {
    const buckets = new TokenBuckets(2, 3);
    const t = 1_000_000;
    expect([0, 1, 2].map(() => buckets.take("203.0.113.7", t))).toEqual([0, 0, 0]);
    expect(buckets.take("203.0.113.7", t)).toBe(500); // 2 per second: the next in 500 ms
    expect(buckets.take("203.0.113.7", t + 500)).toBe(0);
    expect(buckets.take("2001:db8::1", t)).toBe(0); // another key, its own bucket
  });

  test("keys that hashed to one slot of the old shared table have buckets of their own", () => {
    // FNV-1a collided on these two (0.4.0 refused the second's first request).
    const buckets = new TokenBuckets(1, 2);
    const t = 2_000_000;
    expect(buckets.take("127.65.83.6", t)).toBe(0);
    expect(buckets.take("127.65.83.6", t)).toBe(0);
    expect(buckets.take("127.65.83.6", t)).toBeGreaterThan(0);
    expect(buckets.take("127.67.111.60", t)).toBe(0);
  });

  test("a flood of fresh addresses never resets a limited client, and never refuses a new one", () => {
    const maxKeys = 10_000;
    const buckets = new TokenBuckets(1, 5, maxKeys);
    let t = 3_000_000;
    const victim = "198.51.100.9";
    for (let i = 0; i < 5; i++) expect(buckets.take(victim, t)).toBe(0);
    expect(buckets.take(victim, t)).toBeGreaterThan(0); // limited
    // 300,000 other addresses, each spending part of its burst, within the same second.
    for (let n = 1; n <= 300_000; n++) {
      const address = loopback(n);
      expect(buckets.take(address, t)).toBe(0); // never seen: its first request passes
      expect(buckets.take(address, t)).toBe(0);
      if (n % 50_000 === 0) {
        expect(buckets.take(victim, t)).toBeGreaterThan(0); // still limited: its bucket stayed
        t += 1; // a millisecond later: the victim has not earned a token yet
      }
    }
    expect(buckets.size).toBeLessThanOrEqual(maxKeys + maxKeys / 4 + 1);
    expect(buckets.take(victim, t + 1000)).toBe(0); // its rate, exactly as configured
  });

  test("limited clients are kept even past maxKeys, and full buckets are forgotten first", () => {
    const buckets = new TokenBuckets(1, 1, 1000);
    const t = 4_000_000;
    // 3,000 clients each limited (their one token spent, none back for a second).
    for (let n = 0; n < 3000; n++) buckets.take(loopback(n), t);
    expect(buckets.size).toBe(3000);
    for (let n = 0; n < 3000; n++) expect(buckets.take(loopback(n), t + 10)).toBeGreaterThan(0);
    // A second later every bucket is full again: the next sweep forgets them all.
    for (let n = 3000; n < 3400; n++) buckets.take(loopback(n), t + 2000);
    expect(buckets.size).toBeLessThan(1000);
  });

  test("per address and per tracker together: the longer wait wins", () => {
    const limits = new RateLimiter({
      perIp: { ratePerSecond: 1, burst: 10 },
      perTracker: { ratePerSecond: 1, burst: 3 },
    });
    const t = 5_000_000;
    const waits = Array.from({ length: 5 }, () => limits.take("198.51.100.4", "1", "1", t));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBe(1000);
    expect(limits.take("198.51.100.4", "1", "2", t)).toBe(0); // another tracker
  });
});
