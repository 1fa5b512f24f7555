/**
 * Client event IDs remembered per tracker for a window (24 hours by default), so that a retried
 * request is answered as a success and stored once. Kept in LMDB, so a retry after a restart is
 * still recognised; expired entries are swept in event-ID (time) order.
 */
import type { Database, RootDatabase } from "lmdb";
import { timeKey } from "./event-store.ts";
import { uuidv7Time } from "../events/ids.ts";

/** Per tracker: the same client ID sent to two trackers is two events. */
export const clientKey = (accountId: string, trackerId: string, clientEventId: string) =>
  `${accountId}/${trackerId}/${clientEventId}`;

const CLIENT_ID_DBS = { clientIds: "client-ids", clientIdsByTime: "client-ids-by-time" };

export class ClientIds {
  /** client key -> our event ID */
  private readonly ids: Database<string, string>;
  /** our event ID (time-ordered) -> client key, for sweeping */
  private readonly byTime: Database<string, string>;
  /** Requests with this client ID still being stored: their event ID once stored, or null if that failed. */
  private readonly inFlight = new Map<string, Promise<string | null>>();

  constructor(
    root: RootDatabase,
    private readonly windowMs: number,
  ) {
    this.ids = root.openDB({ name: CLIENT_ID_DBS.clientIds, encoding: "string" });
    this.byTime = root.openDB({ name: CLIENT_ID_DBS.clientIdsByTime, encoding: "string" });
  }

  get databases(): Database<unknown, string>[] {
    return [this.ids, this.byTime] as Database<unknown, string>[];
  }

  /**
   * The event already stored under this client key (within the window), a promise for one
   * being stored right now (null if that failed), or null. Synchronous, so a caller that gets
   * null and calls storing() in the same tick cannot race another request.
   */
  lookup(key: string, now: number): string | Promise<string | null> | null {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const eventId = this.ids.get(key);
    return eventId !== undefined && uuidv7Time(eventId) > now - this.windowMs ? eventId : null;
  }

  /** Puts the key for the event (the event writer, inside the event's own transaction). */
  put(key: string, eventId: string): void {
    this.ids.put(key, eventId);
    this.byTime.put(eventId, key);
  }

  /** Marks the key as being stored until `written` settles (with the event's ID). */
  storing(key: string, written: Promise<{ eventId: string }>): void {
    const settled = written.then(
      (w) => w.eventId,
      () => null,
    );
    this.inFlight.set(key, settled);
    void settled.then(() => this.inFlight.delete(key));
  }

  /** Forgets keys older than the window; resolves with how many. */
  async sweep(now: number, limit = 10000): Promise<number> {
    const cutoff = timeKey(now - this.windowMs);
    let n = 0;
    let last: Promise<unknown> = Promise.resolve();
    for (const { key: eventId, value: key } of this.byTime.getRange({ end: cutoff, limit })) {
      if (this.ids.get(key) === eventId) this.ids.remove(key).catch(() => {});
      last = this.byTime.remove(eventId);
      n++;
    }
    await last;
    return n;
  }
}
