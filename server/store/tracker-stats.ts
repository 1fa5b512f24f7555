/**
 * Per-tracker counters (accepted, test, rejected, last arrival), kept in memory and written
 * to LMDB at most once a second and on close. They are statistics, not data: after a crash
 * they can undercount the last second, while every acknowledged event is still stored.
 * (Writing them with every event cost about a tenth of the hot path.)
 */
import type { Database } from "lmdb";

export interface TrackerCounters {
  accountId: string;
  trackerId: string;
  accepted: number;
  test: number;
  rejected: number;
  lastEventAt: string | null;
  lastRejectAt: string | null;
}

const FLUSH_INTERVAL_MS = 1000;

export type CounterKind = "accepted" | "test" | "rejected";

export class TrackerStats {
  private readonly cache = new Map<string, TrackerCounters>();
  private readonly dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly db: Database<TrackerCounters, string>) {
    for (const { key, value } of db.getRange()) this.cache.set(key, value);
  }

  /** Counts one request for a tracker; `at` is the ISO time it arrived. */
  record(accountId: string, trackerId: string, kind: CounterKind, at: string): void {
    const key = `${accountId}/${trackerId}`;
    let c = this.cache.get(key);
    if (!c) {
      c = { accountId, trackerId, accepted: 0, test: 0, rejected: 0, lastEventAt: null, lastRejectAt: null };
      this.cache.set(key, c);
    }
    c[kind]++;
    if (kind === "rejected") c.lastRejectAt = at;
    else c.lastEventAt = at;
    this.dirty.add(key);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref?.();
    }
  }

  /** The counters of one tracker, or null if nothing ever arrived for it. */
  get(accountId: string, trackerId: string): TrackerCounters | null {
    return this.cache.get(`${accountId}/${trackerId}`) ?? null;
  }

  /** Every tracker that has received anything. */
  list(): TrackerCounters[] {
    return [...this.cache.values()];
  }

  /** Writes the changed counters; resolves when they are committed. */
  flush(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let last: Promise<unknown> = Promise.resolve();
    for (const key of this.dirty) last = this.db.put(key, { ...this.cache.get(key)! }).catch(() => {}); // failures surface on event writes
    this.dirty.clear();
    return last;
  }
}
