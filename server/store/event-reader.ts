/**
 * The stored events as delivery reads them: in key (arrival) order after a sink's cursor.
 */
import type { Database } from "lmdb";
import { isTestEventJson, type DeliveryItem } from "../events/event.model.ts";

/** A read for delivery: events after a cursor, and how far the read went (test events are passed over). */
export interface DeliveryRead {
  items: DeliveryItem[];
  /** The last key read, delivered or passed over; null if nothing was read. */
  last: string | null;
  /** True if the read stopped at a limit (more events are waiting), false if it reached the newest. */
  full: boolean;
}

export class EventReader {
  constructor(private readonly events: Database<string, string>) {}

  /** Events after `cursor` in key order, up to `maxEvents` and about `maxBytes`, test events passed over. */
  readAfter(cursor: string, maxEvents: number, maxBytes: number): DeliveryRead {
    const items: DeliveryItem[] = [];
    let bytes = 0;
    let last: string | null = null;
    for (const { key, value } of this.events.getRange({ start: cursor })) {
      if (key === cursor) continue;
      if (items.length > 0 && (items.length >= maxEvents || bytes + value.length > maxBytes))
        return { items, last, full: true };
      last = key;
      if (isTestEventJson(value)) continue;
      items.push({ eventId: key, json: value });
      bytes += value.length;
    }
    return { items, last, full: false };
  }

  /** How many events are stored after `cursor`, and the ID of the first one. */
  after(cursor: string): { count: number; first: string | null } {
    const count =
      this.events.getKeysCount({ start: cursor }) -
      (cursor && this.events.doesExist(cursor) ? 1 : 0);
    let first: string | null = null;
    for (const key of this.events.getKeys({ start: cursor, limit: 2 }))
      if (key !== cursor) {
        first = key;
        break;
      }
    return { count, first };
  }
}
