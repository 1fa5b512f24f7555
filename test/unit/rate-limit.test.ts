import { describe, expect, test } from "bun:test";
import { RateLimits, TokenBuckets } from "../../server/ingest/rate-limit.ts";

describe("token buckets", () => {
  test("a burst, then the rate, and how long to wait", () => {
    const buckets = new TokenBuckets(2, 3);
    const t = 1_000_000;
    expect([0, 1, 2].map(() => buckets.take("203.0.113.7", t))).toEqual([0, 0, 0]);
    expect(buckets.take("203.0.113.7", t)).toBe(500); // 2 per second: the next in 500 ms
    expect(buckets.take("203.0.113.7", t + 500)).toBe(0);
    expect(buckets.take("2001:db8::1", t)).toBe(0); // another key, its own bucket
  });

  test("two threads' views of one table take from the same buckets", () => {
    const one = new RateLimits({
      perIp: { ratePerSecond: 1, burst: 10 },
      perTracker: { ratePerSecond: 0, burst: 100 },
    });
    const other = new RateLimits(
      { perIp: { ratePerSecond: 1, burst: 10 }, perTracker: { ratePerSecond: 0, burst: 100 } },
      one.tables,
    );
    expect(one.tables.perTracker).toBeNull(); // a limit that is off has no table
    const t = 5_000_000;
    const allowed = Array.from({ length: 30 }, (_, i) =>
      (i % 2 ? one : other).take("198.51.100.4", "1", "1", t),
    ).filter((wait) => wait === 0);
    expect(allowed).toHaveLength(10);
  });

  test("more keys than the table holds: the oldest give way, and every new key gets its burst", () => {
    const buckets = new TokenBuckets(1, 2);
    const t = 9_000_000;
    for (let i = 0; i < 300_000; i++) expect(buckets.take(`key-${i}`, t + i)).toBe(0);
    // The newest keys kept their buckets: their second token is there, the third is not.
    expect(buckets.take("key-299999", t + 300_000)).toBe(0);
    expect(buckets.take("key-299999", t + 300_000)).toBeGreaterThan(0);
  });
});
