/**
 * Each lead's deliveries to CRM sinks (events/lead-facts.ts LeadDelivery), keyed (event ID,
 * sink) so one lead's records are one range read. The ADF sink writes a record before each
 * attempt and after it: what makes a lead go to a CRM once, across restarts. Kept as long
 * as the long memory keeps visits (attribution.lookbackDays), while the lead is in the
 * Leads page's range; a record says where a lead went, not who it was.
 */
import type { Database } from "lmdb";
import type { LeadDelivery, LeadDeliveryLog } from "../events/lead-facts.ts";
import { deleteKeysBelow } from "./delete-keys.ts";
import { timeKey } from "./event-store.ts";
import { tupleKey, tupleRange } from "./tuple-key.ts";

export class LeadDeliveries implements LeadDeliveryLog {
  constructor(readonly database: Database<LeadDelivery, Uint8Array>) {}

  get(eventId: string, sink: string): LeadDelivery | undefined {
    return this.database.get(tupleKey([eventId], sink));
  }

  async put(eventId: string, record: LeadDelivery): Promise<void> {
    await this.database.put(tupleKey([eventId], record.sink), record);
  }

  of(eventId: string): LeadDelivery[] {
    const { start, end } = tupleRange([eventId]);
    return [...this.database.getRange({ start, end })].map((e) => e.value);
  }

  /**
   * How many records one lead has; with `remove`, their removal is queued too (an erasure:
   * call inside its batch).
   */
  forget(eventId: string, remove: boolean): number {
    const { start, end } = tupleRange([eventId]);
    let n = 0;
    for (const key of this.database.getKeys({ start, end })) {
      if (remove) this.database.remove(key);
      n++;
    }
    return n;
  }

  /** Deletes the records of leads received before `beforeMs`; how many. */
  async expire(beforeMs: number, limit = 10000): Promise<number> {
    // Keys begin with the event ID, and event IDs sort by time.
    return deleteKeysBelow(this.database, new TextEncoder().encode(timeKey(beforeMs)), limit);
  }
}
