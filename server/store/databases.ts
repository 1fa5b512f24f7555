/**
 * The store's databases inside its one LMDB environment, opened by name and encoding in one
 * place: trackd, verify and the format migration all read them alike. (The migration from
 * format 1 also opens the old shapes of some, by the names kept here.)
 */
import type { Database, RootDatabase } from "lmdb";
import type { LeadDelivery } from "../events/lead-facts.ts";
import type { DeadLetter, SinkCursor } from "./delivery-store.ts";

/** The names of the delivery state's databases. */
export const DELIVERY_DB_NAMES = {
  cursors: "sink-cursors",
  dead: "dead-letters",
  replay: "replay-queue",
};

/** Events by event ID (UUIDv7: key order is arrival order), as their JSON text. */
export const eventsDb = (root: RootDatabase) =>
  root.openDB<string, string>({ name: "events", encoding: "string" });

/** The link index (link-index.ts): tuple keys to a shopper key. */
export const linksDb = (root: RootDatabase) =>
  root.openDB<string, Uint8Array>({ name: "links", keyEncoding: "binary", encoding: "string" });

/** Small records of the store itself: the format, the readiness probe. */
export const metaDb = (root: RootDatabase): Database<unknown, string> =>
  root.openDB<unknown, string>({ name: "meta" });

/** Each sink's cursor and counters, by sink name. */
export const cursorsDb = (root: RootDatabase): Database<SinkCursor, string> =>
  root.openDB({ name: DELIVERY_DB_NAMES.cursors });

/** Dead letters, by tuple key (sink, event ID). */
export const deadLettersDb = (root: RootDatabase): Database<DeadLetter, Uint8Array> =>
  root.openDB({ name: DELIVERY_DB_NAMES.dead, keyEncoding: "binary" });

/** Dead letters queued for replay (their JSON), by tuple key (sink, event ID). */
export const replayDb = (root: RootDatabase): Database<string, Uint8Array> =>
  root.openDB({ name: DELIVERY_DB_NAMES.replay, keyEncoding: "binary", encoding: "string" });

/** The long memory of visits (visit-memory.ts): tuple keys to a trace's JSON or a shopper key. */
export const memoryDb = (root: RootDatabase) =>
  root.openDB<string, Uint8Array>({ name: "memory", keyEncoding: "binary", encoding: "string" });

/** Each lead's touches as attribution worked them out (journey/lead-touches.ts), by event ID, as JSON. */
export const leadTouchesDb = (root: RootDatabase) =>
  root.openDB<string, string>({ name: "lead-touches", encoding: "string" });

/** Customers' contact details, sealed (contact-vault.ts), by the lead's event ID. */
export const contactsDb = (root: RootDatabase) =>
  root.openDB<Buffer, string>({ name: "contacts", encoding: "binary" });

/** Each lead's deliveries to CRM sinks (lead-deliveries.ts), by tuple key (event ID, sink). */
export const leadDeliveriesDb = (root: RootDatabase) =>
  root.openDB<LeadDelivery, Uint8Array>({ name: "lead-deliveries", keyEncoding: "binary" });
