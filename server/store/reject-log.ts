/**
 * A bounded log of rejected requests, newest kept, so operators can see what was refused and
 * why. Writes are not awaited: a rejection is answered at once and the log is best effort.
 */
import type { Database } from "lmdb";
import type { ErrorDetail } from "../errors.ts";
import { uuidv7 } from "../events/ids.ts";
import type { TrackerStats } from "./tracker-stats.ts";
import { walkPaced, walkToEnd, type Walk } from "./scan-budget.ts";

export interface RejectRecord {
  id: string;
  at: string;
  status: number;
  code: string;
  details: ErrorDetail[];
  /** Path IDs as sent (normalized when valid). */
  accountId: string;
  trackerId: string;
  ip: string | null;
  userAgent: string | null;
  /** The first characters of the body, for diagnosis. */
  sample: string;
}

export const SAMPLE_CHARS = 512;

/** What a list of the reject log asks for. */
export interface RejectQuery {
  limit: number;
  before?: string;
  accountId?: string;
  trackerId?: string;
  code?: string;
}

/** Records read between two points where a paced read may pause. */
const SCAN_PACE = 100;

export class RejectLog {
  private size: number;
  private lastWrite: Promise<unknown> = Promise.resolve();
  private trimming: Promise<void> | null = null;
  /** While true (storage full: Retention), refusals are counted but not written. */
  held: () => boolean = () => false;

  constructor(
    private readonly db: Database<RejectRecord, string>,
    private readonly stats: TrackerStats,
    private readonly capacity: number,
  ) {
    this.size = this.entries();
  }

  /** Records a rejection (and counts it against the tracker when its IDs were valid). */
  record(entry: Omit<RejectRecord, "id">, idsValid: boolean): void {
    if (idsValid) this.stats.record(entry.accountId, entry.trackerId, "rejected", entry.at, 0);
    if (this.capacity === 0 || this.held()) return;
    const id = uuidv7();
    const sample =
      entry.sample.length > SAMPLE_CHARS ? entry.sample.slice(0, SAMPLE_CHARS) : entry.sample;
    this.lastWrite = this.db.put(id, { id, ...entry, sample }).catch(() => {});
    // Trim in steps of 10% so the oldest entries go in one batch rather than one per request,
    // once the new records are committed (reads see committed data only).
    if (++this.size > this.capacity + Math.max(1, this.capacity / 10) && !this.trimming)
      this.trimming = this.lastWrite.then(() => this.trim());
  }

  /** Resolves when the records so far are committed (for tests and orderly shutdown). */
  async written(): Promise<void> {
    await this.lastWrite;
    await this.trimming;
  }

  /** Newest first, optionally before a record ID and filtered by tracker or code. */
  list(options: RejectQuery): RejectRecord[] {
    return walkToEnd(this.walkList(options));
  }

  /** list, paced by `pace` every SCAN_PACE records read (the admin API's ScanBudget). */
  listPaced(options: RejectQuery, pace: () => Promise<void>): Promise<RejectRecord[]> {
    return walkPaced(this.walkList(options), pace);
  }

  /** How many records the log holds, by code; paced like listPaced. */
  countByCode(
    pace: () => Promise<void>,
  ): Promise<{ total: number; byCode: Record<string, number> }> {
    return walkPaced(this.walkCodes(), pace);
  }

  private *walkList(options: RejectQuery): Walk<RejectRecord[]> {
    const out: RejectRecord[] = [];
    let read = 0;
    for (const { key, value } of this.db.getRange({
      reverse: true,
      ...(options.before ? { start: options.before } : {}),
    })) {
      if (++read % SCAN_PACE === 0) yield;
      if (key === options.before) continue;
      if (options.accountId && value.accountId !== options.accountId) continue;
      if (options.trackerId && value.trackerId !== options.trackerId) continue;
      if (options.code && value.code !== options.code) continue;
      out.push(value);
      if (out.length >= options.limit) break;
    }
    return out;
  }

  private *walkCodes(): Walk<{ total: number; byCode: Record<string, number> }> {
    const byCode: Record<string, number> = {};
    let total = 0;
    for (const { value } of this.db.getRange()) {
      byCode[value.code] = (byCode[value.code] ?? 0) + 1;
      if (++total % SCAN_PACE === 0) yield;
    }
    return { total, byCode };
  }

  /**
   * How many records mention one of `needles` (lower case) in their text; with `remove`,
   * their removal is queued too (an erasure: call inside its batch).
   */
  forgetMentions(needles: string[], remove: boolean): number {
    let n = 0;
    for (const { key, value } of this.db.getRange()) {
      const text = JSON.stringify(value).toLowerCase();
      if (!needles.some((needle) => text.includes(needle))) continue;
      if (remove) this.db.remove(key);
      n++;
    }
    if (remove) this.size -= n;
    return n;
  }

  private entries(): number {
    return (this.db.getStats() as { entryCount: number }).entryCount;
  }

  private async trim(): Promise<void> {
    const excess = this.entries() - this.capacity;
    let last: Promise<unknown> = Promise.resolve();
    if (excess > 0)
      for (const key of this.db.getKeys({ limit: excess }))
        last = this.db.remove(key).catch(() => {});
    await last;
    this.size = this.entries();
    this.trimming = null;
  }
}
