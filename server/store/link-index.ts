/**
 * The link index: (account, kind, value, event ID) -> the event's shopper key. Kinds are the
 * instance ID and the identifiers of events/links.ts; entries of one (account, kind, value)
 * are in event-ID (arrival) order. The event writer puts entries in the event's own
 * transaction; retention removes them with the event. Keys are tuple keys (tuple-key.ts), so
 * any account, kind and value, of any length the limits allow, range-reads exactly.
 */
import { EVENT_ID_LENGTH } from "../events/ids.ts";
import type { Database } from "lmdb";
import { linksOf, PER_DEVICE_KINDS } from "../events/links.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { keyTail, tupleKey, tupleRange } from "./tuple-key.ts";

/** The index key of one link of one event. */
export const linkKey = (
  accountId: string,
  kind: string,
  value: string,
  eventId: string,
): Uint8Array => tupleKey([accountId, kind, value], eventId);

export interface LinkEntry {
  eventId: string;
  /** The linked event's shopper key (events/links.ts, "" if none): lets a reader count shoppers without loading events. */
  shopper: string;
}

export interface LinkRead {
  /** Newest first instead of oldest first. */
  reverse?: boolean;
  /** Only events with IDs after this one (oldest first) or before it (newest first). */
  from?: string;
  /** Only events with IDs below this key (a time key or an event ID); oldest-first reads only. */
  below?: string;
  limit?: number;
}

export class LinkIndex {
  constructor(private readonly db: Database<string, Uint8Array>) {}

  get database(): Database<unknown, Uint8Array> {
    return this.db as Database<unknown, Uint8Array>;
  }

  /** The events linked by (account, kind, value), in event-ID order. */
  *entries(
    accountId: string,
    kind: string,
    value: string,
    read: LinkRead = {},
  ): Generator<LinkEntry> {
    const parts = [accountId, kind, value];
    const range = tupleRange(parts);
    const options = read.reverse
      ? {
          reverse: true,
          start: read.from ? tupleKey(parts, read.from) : range.end,
          end: range.start,
        }
      : {
          start: read.from ? tupleKey(parts, read.from) : range.start,
          end: read.below ? tupleKey(parts, read.below) : range.end,
        };
    let n = 0;
    for (const { key, value: shopper } of this.db.getRange(options)) {
      const eventId = keyTail(key, EVENT_ID_LENGTH);
      if (eventId === read.from) continue;
      yield { eventId, shopper };
      if (++n === read.limit) return;
    }
  }

  /** Removes every entry of a stored event (retention); rejects if any removal failed. */
  /** How many index entries the event has (some per-device ones are written once a day). */
  countOf(event: TrackedEvent): number {
    const links = linksOf(event);
    let n = 0;
    for (let i = 0; i < links.length; i += 2)
      if (this.db.doesExist(linkKey(event.accountId, links[i]!, links[i + 1]!, event.eventId))) n++;
    return n;
  }

  remove(event: TrackedEvent): Promise<unknown> {
    const links = linksOf(event);
    const removals: Promise<unknown>[] = [];
    for (let i = 0; i < links.length; i += 2)
      removals.push(
        this.db.remove(linkKey(event.accountId, links[i]!, links[i + 1]!, event.eventId)),
      );
    return Promise.all(removals);
  }
}

const DAY_MS = 86_400_000;
const MAX_REMEMBERED = 200_000;

/**
 * Which per-device entries the event writer has written today. A device's events repeat its
 * user ID and hashed email and phone on every event, but a journey needs one entry per
 * (identifier, device) to reach the device, whose own entries give all its events. So such an
 * entry is written for the device's first event each UTC day (by this process: a restart
 * writes one more), which took most of the link index's cost off ingest. Events without a
 * device (vendors' leads) get every entry. Retention deletes oldest first, so a day's later
 * events lose the link only while that day itself is being deleted.
 */
export class DailyDeviceLinks {
  private day = -1;
  private readonly seen = new Set<string>();

  /**
   * false if this entry was written today already; else it is to be written, and the key it
   * is remembered by ("" if it is not: an entry written for every event), for forget().
   */
  needs(
    accountId: string,
    kind: string,
    value: string,
    shopper: string,
    eventMs: number,
  ): string | false {
    if (!shopper.startsWith("d:") || !PER_DEVICE_KINDS.has(kind)) return "";
    const day = Math.floor(eventMs / DAY_MS);
    if (day !== this.day || this.seen.size >= MAX_REMEMBERED) {
      this.day = day;
      this.seen.clear();
    }
    const key = `${accountId}\u0000${kind}\u0000${value}\u0000${shopper}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return key;
  }

  /** Forgets every entry (an erasure removed links). */
  clear(): void {
    this.seen.clear();
  }

  /** The write of a remembered entry failed: the next event writes it again. */
  forget(key: string): void {
    this.seen.delete(key);
  }
}
