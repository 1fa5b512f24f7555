/**
 * Event counts in time buckets, in memory: a ring of `slots` buckets of `bucketMs` each.
 * Each slot remembers which bucket it holds, so stale slots read as zero without sweeping.
 */
export class TimeBuckets {
  private readonly counts: Uint32Array;
  private readonly stamps: Float64Array;

  constructor(
    private readonly bucketMs: number,
    private readonly slots: number,
  ) {
    this.counts = new Uint32Array(slots);
    this.stamps = new Float64Array(slots).fill(-1);
  }

  add(ms: number, n = 1): void {
    const bucket = Math.floor(ms / this.bucketMs);
    const i = bucket % this.slots;
    if (this.stamps[i] !== bucket) {
      if (this.stamps[i]! > bucket) return; // older than the window
      this.stamps[i] = bucket;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** The count in the bucket holding `ms`, 0 if it left the window. */
  at(ms: number): number {
    const bucket = Math.floor(ms / this.bucketMs);
    const i = bucket % this.slots;
    return this.stamps[i] === bucket ? this.counts[i]! : 0;
  }

  /** Sum over the buckets from the one holding `fromMs` to the one holding `toMs`. */
  sum(fromMs: number, toMs: number): number {
    let total = 0;
    for (let b = Math.floor(fromMs / this.bucketMs); b <= Math.floor(toMs / this.bucketMs); b++)
      total += this.at(b * this.bucketMs);
    return total;
  }

  /** One entry per bucket from `fromMs` to `toMs`, oldest first. */
  series(fromMs: number, toMs: number): { at: string; count: number }[] {
    const out = [];
    for (let b = Math.floor(fromMs / this.bucketMs); b <= Math.floor(toMs / this.bucketMs); b++)
      out.push({
        at: new Date(b * this.bucketMs).toISOString(),
        count: this.at(b * this.bucketMs),
      });
    return out;
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Per-tracker activity: the last hour by minute and the last day by hour (about 1 KB each). */
export class Activity {
  readonly minutes = new TimeBuckets(MINUTE, 61);
  readonly hours = new TimeBuckets(HOUR, 25);

  add(ms: number): void {
    this.minutes.add(ms);
    this.hours.add(ms);
  }

  lastHour(now: number): number {
    return this.minutes.sum(now - HOUR + MINUTE, now);
  }

  /** The last 24 hours, to the hour. */
  lastDay(now: number): number {
    return this.hours.sum(now - 23 * HOUR, now);
  }
}

export { MINUTE, HOUR };
