/**
 * Customers' contact details, sealed: AES-256-GCM under the key of the lead's day
 * (pii-keys.ts), the event ID as associated data (a record cannot be passed off as another
 * lead's), in their own LMDB database by event ID. The event itself keeps only a marker and
 * hashes (events/lead-details.ts), so nothing that reads events (sinks, logs, the admin API's
 * event lists) sees a contact unless it asks the vault.
 *
 * A record: version (1 byte), the key's day (10 ASCII bytes), IV (12), tag (16), ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Database } from "lmdb";
import type { Customer } from "../events/lead-details.ts";
import { deleteKeysBelow } from "./delete-keys.ts";
import { timeKey } from "./event-store.ts";
import { dayOf, type PiiKeys } from "./pii-keys.ts";

const VERSION = 1;
const DAY = 10;
const IV = 12;
const TAG = 16;
const HEAD = 1 + DAY + IV + TAG;

/** What the vault holds for a lead. */
export type Contact =
  | { state: "kept"; customer: Customer }
  /** The lead had a customer, whose record or key is gone (pii.retentionDays, erasure). */
  | { state: "erased" }
  | { state: "none" };

export class ContactVault {
  constructor(
    readonly database: Database<Buffer, string>,
    readonly keys: PiiKeys,
  ) {}

  /** The sealed record of a lead's customer (its day's key made first if need be). */
  seal(eventId: string, receivedMs: number, customer: Customer): Buffer {
    const day = dayOf(receivedMs);
    const key = this.keys.getOrCreate(day);
    const iv = randomBytes(IV);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(eventId));
    const body = Buffer.concat([cipher.update(JSON.stringify(customer), "utf8"), cipher.final()]);
    return Buffer.concat([
      Buffer.from([VERSION]),
      Buffer.from(day, "ascii"),
      iv,
      cipher.getAuthTag(),
      body,
    ]);
  }

  /** Puts a sealed record: called inside the event's own write batch. */
  put(eventId: string, sealed: Buffer): void {
    void this.database.put(eventId, sealed);
  }

  /**
   * A lead's customer, opened. `hadCustomer`: the event's marker says it had one, so a
   * missing record means erased rather than none.
   */
  open(eventId: string, hadCustomer: boolean): Contact {
    const record = this.database.get(eventId);
    if (!record) return hadCustomer ? { state: "erased" } : { state: "none" };
    const sealed = Buffer.from(record);
    if (sealed[0] !== VERSION || sealed.length < HEAD)
      throw new Error(`contact ${eventId}: unknown record format`);
    const key = this.keys.get(sealed.subarray(1, 1 + DAY).toString("ascii"));
    if (!key) return { state: "erased" };
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(1 + DAY, 1 + DAY + IV));
    decipher.setAAD(Buffer.from(eventId));
    decipher.setAuthTag(sealed.subarray(1 + DAY + IV, HEAD));
    const text = Buffer.concat([decipher.update(sealed.subarray(HEAD)), decipher.final()]);
    return { state: "kept", customer: JSON.parse(text.toString("utf8")) as Customer };
  }

  /**
   * Forgets the customers of leads received before `beforeMs`: their day keys first (from
   * then on unreadable), then their records. Returns how many records were deleted.
   */
  async expire(beforeMs: number, limit = 10000): Promise<number> {
    this.keys.dropBefore(dayOf(beforeMs));
    return deleteKeysBelow(this.database, timeKey(beforeMs), limit);
  }

  /** Deletes one lead's record (the trust and privacy work's erasure builds on this). */
  remove(eventId: string): Promise<boolean> {
    return this.database.remove(eventId);
  }

  count(): number {
    return this.database.getCount();
  }
}
