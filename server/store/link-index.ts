/**
 * The link index: (account, kind, value, event ID) -> the event's shopper key. Kinds are the
 * instance ID and the identifiers of events/links.ts; entries of one (account, kind, value)
 * are in event-ID (arrival) order. The event writer thread puts entries in the event's own
 * transaction; retention removes them with the event. Keys are tuple keys (tuple-key.ts), so
 * any account, kind and value, of any length the limits allow, range-reads exactly.
 */
import type { Database } from "lmdb";
import { linksOf } from "../events/links.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { keyTail, tupleKey, tupleRange } from "./tuple-key.ts";

export const LINKS_DB = "links";

const EVENT_ID_LENGTH = 36;

/** The index key of one link of one event. */
export const linkKey = (accountId: string, kind: string, value: string, eventId: string): Uint8Array => tupleKey([accountId, kind, value], eventId);

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
  *entries(accountId: string, kind: string, value: string, read: LinkRead = {}): Generator<LinkEntry> {
    const parts = [accountId, kind, value];
    const range = tupleRange(parts);
    const options = read.reverse
      ? { reverse: true, start: read.from ? tupleKey(parts, read.from) : range.end, end: range.start }
      : { start: read.from ? tupleKey(parts, read.from) : range.start, end: read.below ? tupleKey(parts, read.below) : range.end };
    let n = 0;
    for (const { key, value: shopper } of this.db.getRange(options)) {
      const eventId = keyTail(key, EVENT_ID_LENGTH);
      if (eventId === read.from) continue;
      yield { eventId, shopper };
      if (++n === read.limit) return;
    }
  }

  /** Removes every entry of a stored event (retention). */
  remove(event: TrackedEvent): Promise<unknown> {
    const links = linksOf(event);
    let last: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < links.length; i += 2) last = this.db.remove(linkKey(event.accountId, links[i]!, links[i + 1]!, event.eventId));
    return last;
  }
}
