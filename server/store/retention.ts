/**
 * Retention and the storage cap. An event is deleted only when every sink's cursor has passed
 * it and it is older than the retention window (dead letters keep their own copy). When the
 * pages in use reach the cap, `full` turns true (the collect route then answers 503) until
 * delivery and retention free space; nothing stored is ever dropped to make room.
 */
import type { Log } from "../telemetry/log.ts";
import { timeKey } from "./event-store.ts";
import type { Store } from "./open-store.ts";

export interface RetentionOptions {
  retentionMs: number;
  capBytes: number;
  /** The lowest sink cursor, or null when there are no sinks. */
  minCursor: () => string | null;
  log: Log;
  now?: () => number;
  /** How often usage is measured (and, while full, swept). */
  checkMs?: number;
  sweepMs?: number;
}

const BATCH = 10000;

export class Retention {
  private full = false;
  private timers: ReturnType<typeof setInterval>[] = [];
  private sweeping: Promise<number> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: RetentionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** True while storage is at its cap. */
  isFull(): boolean {
    return this.full;
  }

  start(): void {
    this.check();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.options.checkMs ?? 500, () => {
      this.check();
      if (this.full) void this.sweep();
    });
    every(this.options.sweepMs ?? 60000, () => void this.sweep());
  }

  stop(): Promise<unknown> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    return this.sweeping ?? Promise.resolve();
  }

  /** Measures the pages in use against the cap. */
  check(): void {
    const was = this.full;
    this.full = this.options.capBytes > 0 && this.store.usedBytes() >= this.options.capBytes;
    if (this.full !== was) this.options.log[this.full ? "warn" : "info"](this.full ? "storage cap reached: refusing new events" : "storage below cap: accepting events", { usedBytes: this.store.usedBytes(), capBytes: this.options.capBytes });
  }

  /** Deletes what may go; resolves with how many events were deleted. One sweep at a time. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepAll().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepAll(): Promise<number> {
    const byAge = timeKey(this.now() - this.options.retentionMs);
    const cursor = this.options.minCursor();
    const upTo = cursor === null || byAge < cursor ? byAge : cursor;
    let total = 0;
    for (;;) {
      const n = await this.store.events.deleteUpTo(upTo, BATCH);
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) {
      this.options.log.info("retention deleted delivered events", { deleted: total });
      this.check();
    }
    while ((await this.store.clientIds.sweep(this.now())) === 10000); // forget expired client event IDs
    return total;
  }
}
