/**
 * Retention and the storage cap. An event is deleted only when every sink's cursor has passed
 * it and it is older than the retention window (dead letters keep their own copy); a lead,
 * once older than the attribution lookback. When the
 * pages in use reach the cap, or the disk under the data directory has less than
 * `minFreeBytes` left, `full` turns true (the collect route then answers 503) until space
 * returns; no stored event is ever dropped to make room. (The long memory of visits is: at
 * the cap, its oldest visits are forgotten before their lookback is over.)
 *
 * The free-space margin matters: LMDB hitting ENOSPC mid-commit was seen to leave lmdb-js in a
 * state that later crashed the process (a glibc malloc assertion at shutdown), so trackd
 * stops writing before the disk is full rather than relying on LMDB's error path.
 */
import { statfsSync } from "node:fs";
import type { TrackedEvent } from "../events/event.model.ts";
import type { Log } from "../telemetry/log.ts";
import { timeKey } from "./event-store.ts";
import type { Store } from "./open-store.ts";

export interface RetentionOptions {
  retentionMs: number;
  /** How long the long memory keeps a visit after it began (attribution.lookbackDays). */
  lookbackMs: number;
  /** Events kept for the lookback rather than retentionMs once delivered: leads (journey/lead-rule.ts). */
  keepForLookback?: (event: TrackedEvent) => boolean;
  /** How long a lead's customer is kept (pii.retentionDays); without it, as long as the store. */
  piiRetentionMs?: number;
  capBytes: number;
  /** Refuse new events while the data directory's filesystem has less free space than this. */
  minFreeBytes?: number;
  /** The directory whose filesystem is watched. */
  dataDir?: string;
  /** The lowest sink cursor, or null when there are no sinks. */
  minCursor: () => string | null;
  log: Log;
  now?: () => number;
  /** How often usage is measured at the least (and, while full, swept). */
  checkMs?: number;
  sweepMs?: number;
}

const BATCH = 10000;
/** The most remembered visits one sweep forgets at the cap (forgetOldestVisits). */
const FORGET_AT_CAP = 1000;

/**
 * Bytes of store and disk an event's JSON may take, per character, counted generously: UTF-8
 * (up to 3 bytes a character), its link and client-ID entries, and page slack. Measuring
 * (page counts of every database, statfs) costs milliseconds, so between two measurements the
 * room left is counted down by what was appended, and measured again when it runs out.
 */
const BYTES_PER_CHAR = 8;

export class Retention {
  private full = false;
  private reason = "";
  /** Characters of JSON that may be appended before the room must be measured again. */
  private headroom = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private sweeping: Promise<number> | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: RetentionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** True while storage is at its cap, or the disk at its margin. */
  isFull(): boolean {
    return this.full;
  }

  /** Why storage is full, for /readyz (null while it is not). */
  fullReason(): string | null {
    return this.full ? this.reason : null;
  }

  start(): void {
    this.check();
    // Also measure when the room counted down by appends runs out, so a burst cannot outrun the timer.
    this.unsubscribe = this.store.events.onAppend((size) => {
      this.headroom -= size;
      if (this.headroom <= 0) this.check();
    });
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.options.checkMs ?? 1000, () => {
      this.check();
      if (this.full) void this.sweep();
    });
    every(this.options.sweepMs ?? 60000, () => void this.sweep());
  }

  stop(): Promise<unknown> {
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    return this.sweeping ?? Promise.resolve();
  }

  /** Measures the pages in use against the cap, and the disk's free space against the margin. */
  check(): void {
    const was = this.full;
    const used = this.store.usedBytes();
    const free = this.freeBytes();
    const room = Math.min(
      this.options.capBytes > 0 ? this.options.capBytes - used : Infinity,
      free - (this.options.minFreeBytes ?? 0),
    );
    this.full = room <= 0;
    this.reason =
      this.options.capBytes > 0 && used >= this.options.capBytes
        ? `the store uses ${used} bytes of its cap of ${this.options.capBytes} (storageMaxBytes)`
        : `${free} bytes free on the data directory's disk, under the margin of ${this.options.minFreeBytes ?? 0} (storageMinFreeBytes)`;
    // A tenth of the room, so that a measurement is never far behind near the limit.
    this.headroom = Math.min(room / 10 / BYTES_PER_CHAR, Number.MAX_SAFE_INTEGER);
    if (this.full !== was)
      this.options.log[this.full ? "warn" : "info"](
        this.full
          ? "storage full (cap reached or disk nearly full): refusing new events"
          : "storage has room again: accepting events",
        {
          usedBytes: used,
          capBytes: this.options.capBytes,
          freeBytes: free,
          minFreeBytes: this.options.minFreeBytes ?? 0,
        },
      );
  }

  /** Free bytes on the data directory's filesystem (for an unprivileged user), or Infinity if unknown. */
  private freeBytes(): number {
    if (!this.options.dataDir || !this.options.minFreeBytes) return Infinity;
    try {
      const s = statfsSync(this.options.dataDir);
      return s.bavail * s.bsize;
    } catch {
      return Infinity;
    }
  }

  /** Deletes what may go; resolves with how many events were deleted. One sweep at a time. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepAll()
      .catch((err: unknown) => {
        // A delete that could not commit (the disk, say) is tried again at the next sweep.
        this.options.log.error("retention could not delete", { error: String(err) });
        return 0;
      })
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private atCap(): boolean {
    return this.options.capBytes > 0 && this.store.usedBytes() >= this.options.capBytes;
  }

  /**
   * At the cap with every deletable event gone, the long memory of visits gives way, its
   * oldest tenth (at most FORGET_AT_CAP visits) a sweep: it is a summary, and refusing new
   * events to keep it would lose more. A sweep at a time, because the pages a forgotten
   * visit frees are counted only once LMDB merges them, after many. (Not for a disk short of
   * space: LMDB's file does not shrink, so forgetting would not help there.)
   */
  private async forgetOldestVisits(): Promise<void> {
    const memory = this.store.events.memory;
    const forgotten = await memory.expire(
      "\uffff",
      Math.min(FORGET_AT_CAP, Math.ceil(memory.count() / 10)),
    );
    this.check();
    if (forgotten > 0)
      this.options.log.warn(
        "storage full: forgot the oldest remembered visits before attribution.lookbackDays",
        { forgotten },
      );
  }

  private async sweepAll(): Promise<number> {
    const now = this.now();
    const byAge = timeKey(now - this.options.retentionMs);
    const rememberSince = new Date(now - this.options.lookbackMs).toISOString();
    const cursor = this.options.minCursor();
    const upTo = cursor === null || byAge < cursor ? byAge : cursor;
    let total = 0;
    for (;;) {
      const n = await this.store.events.deleteUpTo(
        upTo,
        BATCH,
        rememberSince,
        this.options.keepForLookback,
      );
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) {
      this.options.log.info("retention deleted delivered events", { deleted: total });
      this.check();
    }
    if (this.atCap()) await this.forgetOldestVisits();
    while ((await this.store.clientIds.sweep(now)) === 10000); // forget expired client event IDs
    while ((await this.store.events.memory.expire(rememberSince, BATCH)) === BATCH); // and visits past the lookback
    while (
      (await this.store.leadDeliveries.expire(now - this.options.lookbackMs, BATCH)) === BATCH
    );
    if (this.options.piiRetentionMs !== undefined) {
      let erased = 0;
      for (let n = BATCH; n === BATCH; erased += n)
        n = await this.store.contacts.expire(now - this.options.piiRetentionMs, BATCH);
      if (erased > 0) this.options.log.info("customers past pii.retentionDays erased", { erased });
    }
    return total;
  }
}
