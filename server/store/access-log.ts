/**
 * The access log: who read customer data (leads, journeys, events, exports), what and when,
 * kept `admin.accessLogDays` and shown to admins. Keyed by a time-ordered ID, so the newest
 * are read first and the oldest deleted in key order.
 */
import type { Database, RootDatabase } from "lmdb";
import { uuidv7 } from "../events/ids.ts";
import { deleteKeysBelow } from "./delete-keys.ts";
import { timeKey } from "./event-store.ts";

export interface AccessEntry {
  at: string;
  /** The owner or the credential, as the gate knew it. */
  who: { id: string; name: string; role: string };
  method: string;
  /** The route as the router matched it, and the request's path and query as sent. */
  route: string;
  target: string;
}

/** How many expired entries one sweep deletes, in one transaction. */
const SWEEP = 10_000;

export class AccessLog {
  private readonly db: Database<AccessEntry, string>;
  private sweptAt = 0;

  constructor(
    root: RootDatabase,
    private readonly keepMs: number,
  ) {
    this.db = root.openDB({ name: "access-log" });
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** Records a read; at most once a minute also deletes what has passed its time. */
  record(entry: AccessEntry, now: number): void {
    this.db.put(uuidv7(now), entry).catch(() => {});
    if (now - this.sweptAt > 60_000) {
      this.sweptAt = now;
      // The bound is a time prefix: uuidv7() never goes back, so it cannot make a past bound.
      void deleteKeysBelow(this.db, timeKey(now - this.keepMs), SWEEP).catch(() => {});
    }
  }

  /**
   * How many entries' targets mention one of `needles` (lower case, as sent or URL-encoded);
   * with `rewrite`, each is queued to be put back with it replaced by "(erased)" (an erasure:
   * call inside its batch): the record of who read what stays, the identifier goes.
   */
  redact(needles: string[], rewrite: boolean): number {
    const forms = [...new Set(needles.flatMap((n) => [n, encodeURIComponent(n).toLowerCase()]))];
    let n = 0;
    for (const { key, value } of this.db.getRange()) {
      let target = value.target;
      for (const form of forms) target = replaceAllCaseless(target, form, "(erased)");
      if (target === value.target) continue;
      if (rewrite) this.db.put(key, { ...value, target });
      n++;
    }
    return n;
  }

  /** The newest entries first, before the entry `before` (an ID from a previous page). */
  list(limit: number, before?: string): (AccessEntry & { id: string })[] {
    const out: (AccessEntry & { id: string })[] = [];
    for (const { key, value } of this.db.getRange({
      reverse: true,
      ...(before !== undefined && { start: before, exclusiveStart: true }),
      limit,
    }))
      out.push({ id: key, ...value });
    return out;
  }
}

/** `text` with every occurrence of `needle` (lower case), in any case, replaced. */
function replaceAllCaseless(text: string, needle: string, by: string): string {
  const lower = text.toLowerCase();
  if (!lower.includes(needle)) return text;
  let out = "";
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, from)) {
    out += text.slice(from, at) + by;
    from = at + needle.length;
  }
  return out + text.slice(from);
}
