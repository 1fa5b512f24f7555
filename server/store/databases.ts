/**
 * The store's databases inside its one LMDB environment, opened by name and encoding in one
 * place: trackd, verify and the format migration all read them alike.
 */
import type { Database, RootDatabase } from "lmdb";

/** Events by event ID (UUIDv7: key order is arrival order), as their JSON text. */
export const eventsDb = (root: RootDatabase) =>
  root.openDB<string, string>({ name: "events", encoding: "string" });

/** The link index (link-index.ts): tuple keys to a shopper key. */
export const linksDb = (root: RootDatabase) =>
  root.openDB<string, Uint8Array>({ name: "links", keyEncoding: "binary", encoding: "string" });

/** Small records of the store itself: the format, the readiness probe. */
export const metaDb = (root: RootDatabase): Database<unknown, string> =>
  root.openDB<unknown, string>({ name: "meta" });
