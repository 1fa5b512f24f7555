/**
 * Per-tracker counters (accepted, test, rejected, last arrival), kept in memory and written
 * to LMDB at most once a second and on close. They are statistics, not data: after a crash
 * they can undercount the last second, while every acknowledged event is still stored.
 * (Writing them with every event cost about a tenth of the hot path.)
 */
import type { Database } from "lmdb";
import { Activity, MINUTE, TimeBuckets } from "./time-buckets.ts";

export interface TrackerCounters {
  accountId: string;
  trackerId: string;
  accepted: number;
  test: number;
  rejected: number;
  /** Of the accepted, events flagged as bots (absent in counters written before 0.9). */
  bots?: number;
  lastEventAt: string | null;
  lastRejectAt: string | null;
}

const FLUSH_INTERVAL_MS = 1000;

export type CounterKind = "accepted" | "test" | "rejected";

/** What is kept in memory per tracker: its persisted counters and its recent activity. */
interface Entry {
  counters: TrackerCounters;
  activity: Activity | null;
}

export class TrackerStats {
  /** One entry per "aid/tid", so an event costs one lookup. */
  private readonly entries = new Map<string, Entry>();
  /** Stored events per minute over the last day, for every tracker together. */
  private readonly perMinute = new TimeBuckets(MINUTE, 24 * 60 + 1);
  private readonly dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly db: Database<TrackerCounters, string>) {
    for (const { key, value } of db.getRange())
      this.entries.set(key, { counters: value, activity: null });
  }

  private entry(accountId: string, trackerId: string, key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = {
        counters: {
          accountId,
          trackerId,
          accepted: 0,
          test: 0,
          rejected: 0,
          lastEventAt: null,
          lastRejectAt: null,
        },
        activity: null,
      };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Every account that has sent an event (accepted or refused) since the store was made. */
  accounts(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.counters.accountId))];
  }

  /** Counts one request for a tracker; `at` is the ISO time it arrived, `ms` the same in milliseconds. */
  record(accountId: string, trackerId: string, kind: CounterKind, at: string, ms: number): void {
    const key = `${accountId}/${trackerId}`;
    const e = this.entry(accountId, trackerId, key);
    const c = e.counters;
    c[kind]++;
    if (kind === "rejected") c.lastRejectAt = at;
    else {
      c.lastEventAt = at;
      e.activity ??= new Activity();
      e.activity.add(ms);
      this.perMinute.add(ms);
    }
    this.dirty.add(key);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref?.();
    }
  }

  /** Counts a stored event flagged as a bot's (beside its `accepted`). */
  countBot(accountId: string, trackerId: string): void {
    const key = `${accountId}/${trackerId}`;
    const c = this.entry(accountId, trackerId, key).counters;
    c.bots = (c.bots ?? 0) + 1;
    this.dirty.add(key);
  }

  /** Adds a stored event to the time buckets only (rebuilding them at start). */
  countActivity(accountId: string, trackerId: string, ms: number): void {
    const e = this.entry(accountId, trackerId, `${accountId}/${trackerId}`);
    e.activity ??= new Activity();
    e.activity.add(ms);
    this.perMinute.add(ms);
  }

  /** Events stored per minute, every tracker together, from `fromMs` to `toMs` (the last day at most). */
  eventsPerMinute(fromMs: number, toMs: number): { at: string; count: number }[] {
    return this.perMinute.series(fromMs, toMs);
  }

  /** Events stored for a tracker in the last hour and the last 24 hours. */
  recent(accountId: string, trackerId: string, now: number): { lastHour: number; lastDay: number } {
    const a = this.entries.get(`${accountId}/${trackerId}`)?.activity;
    return { lastHour: a?.lastHour(now) ?? 0, lastDay: a?.lastDay(now) ?? 0 };
  }

  /** The counters of one tracker, or null if nothing ever arrived for it. */
  get(accountId: string, trackerId: string): TrackerCounters | null {
    return this.entries.get(`${accountId}/${trackerId}`)?.counters ?? null;
  }

  /** Every tracker that has received anything. */
  list(): TrackerCounters[] {
    return [...this.entries.values()].map((e) => e.counters);
  }

  /** While true (storage full: Retention), changed counters stay in memory, written later. */
  held: () => boolean = () => false;

  /** Writes the changed counters; resolves when they are committed. */
  flush(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.held()) return Promise.resolve();
    let last: Promise<unknown> = Promise.resolve();
    for (const key of this.dirty)
      last = this.db.put(key, { ...this.entries.get(key)!.counters }).catch(() => {}); // failures surface on event writes
    this.dirty.clear();
    return last;
  }
}
