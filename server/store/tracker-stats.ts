/**
 * Per-tracker counters (accepted, test, rejected, last arrival), kept in memory and written
 * into the same LMDB transaction as the events that changed them (a microtask after the
 * event's put, so within the same event-loop turn, which lmdb-js commits as one batch).
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

export type CounterKind = "accepted" | "test" | "rejected";

export class TrackerStats {
  private readonly cache = new Map<string, TrackerCounters>();
  private readonly dirty = new Set<string>();
  private scheduled = false;

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
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
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

  private flush(): void {
    this.scheduled = false;
    for (const key of this.dirty) this.db.put(key, { ...this.cache.get(key)! }).catch(() => {}); // the event's own put reports failures
    this.dirty.clear();
  }
}
