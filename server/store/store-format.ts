/**
 * The data directory's store format, recorded as "schema" in the meta database. A newer trackd
 * migrates an older format when it opens the store; a trackd meeting a newer format refuses
 * to open it rather than misread it.
 *
 * 1: trackd 0.1.0. The instance index was keyed by NUL-joined strings, which lmdb-js stores
 *    differently below and above about 64 bytes: long, UUID and Unicode IDs went missing.
 * 2: trackd 0.2.0. The link index (link-index.ts) replaces the instance index; it and the
 *    dead letters and replay queue are keyed by tuple keys (tuple-key.ts).
 */
import { EVENT_ID_LENGTH } from "../events/ids.ts";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { open, type Database, type RootDatabase, type RootDatabaseOptionsWithPath } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import { shopperKeyOf, linksOf } from "../events/links.ts";
import type { Log } from "../telemetry/log.ts";
import { DELIVERY_DBS, deliveryKey, type DeadLetter } from "./delivery-store.ts";
import { eventsDb, linksDb, metaDb } from "./databases.ts";
import { linkKey } from "./link-index.ts";

export const STORE_FORMAT = 2;

const FORMAT_KEY = "schema";
const BATCH = 10_000;

/** The data directory holds a format this trackd cannot read. */
export class StoreFormatError extends Error {}

/** LMDB's magic number, at byte 24 of the first meta page (after the page header). */
const LMDB_MAGIC = 0xbeefc0de;
const MAGIC_AT = 24;

/**
 * Throws StoreFormatError if `path` exists but is not an LMDB environment (a file truncated
 * to nothing, or not LMDB's at all): lmdb-js crashes the process with a segmentation fault
 * opening such a file, instead of returning LMDB's own "not an LMDB file" error.
 */
export function checkStoreFile(path: string): void {
  if (!existsSync(path)) return;
  const header = Buffer.alloc(MAGIC_AT + 4);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read < header.length || header.readUInt32LE(MAGIC_AT) !== LMDB_MAGIC)
    throw new StoreFormatError(`${path} is not an LMDB file: not a trackd store, or damaged`);
}

/**
 * Brings the store to STORE_FORMAT before anything else opens it: records it in a new store,
 * migrates an older one (logging progress), throws StoreFormatError for a newer one. A
 * migration cut short (a crash, kill -9) starts over at the next open: stored events are only
 * read, and the format is recorded in the same transaction as the last step.
 *
 * It opens and closes the environment itself: lmdb-js keeps per-process state for a database
 * opened with one key encoding, and a database re-keyed here and read in the same process
 * under its new key encoding missed exact-key reads until the environment was reopened.
 */
export function ensureStoreFormat(options: RootDatabaseOptionsWithPath, log: Log): void {
  checkStoreFile(options.path ?? "");
  const root = open(options);
  try {
    checkAndMigrate(root, options.path ?? "", log);
  } finally {
    void root.close();
  }
}

/** The format recorded in an open store, or undefined for a new (or 0.1.0-era empty) one. */
export function storeFormatOf(root: RootDatabase): number | undefined {
  const found = metaDb(root).get(FORMAT_KEY);
  return typeof found === "number" ? found : undefined;
}

function checkAndMigrate(root: RootDatabase, path: string, log: Log): void {
  const meta = metaDb(root);
  const events = eventsDb(root);
  const found = meta.get(FORMAT_KEY);
  if (found === STORE_FORMAT) return;
  if (typeof found === "number" && found > STORE_FORMAT)
    throw new StoreFormatError(
      `${path} is in store format ${found}, written by a newer trackd; this trackd reads formats up to ${STORE_FORMAT}. Run the newer release, or restore the backup taken before upgrading.`,
    );
  if (found === undefined && events.getCount() === 0) {
    meta.putSync(FORMAT_KEY, STORE_FORMAT);
    return;
  }
  migrateFrom1(root, meta, events, log);
}

function migrateFrom1(
  root: RootDatabase,
  meta: Database<unknown, string>,
  events: Database<string, string>,
  log: Log,
): void {
  const total = events.getCount();
  const started = Date.now();
  log.info("migrating the store from format 1 to 2: rebuilding the link index", { events: total });
  const links = linksDb(root);
  links.clearSync();
  let done = 0;
  let after: string | undefined;
  for (;;) {
    const batch = [...events.getRange({ start: after, limit: BATCH + 1 })]
      .filter(({ key }) => key !== after)
      .slice(0, BATCH);
    if (batch.length === 0) break;
    root.transactionSync(() => {
      for (const { value } of batch) {
        const event = JSON.parse(value) as TrackedEvent;
        const pairs = linksOf(event);
        const shopper = shopperKeyOf(event);
        for (let i = 0; i < pairs.length; i += 2)
          links.putSync(linkKey(event.accountId, pairs[i]!, pairs[i + 1]!, event.eventId), shopper);
      }
    });
    done += batch.length;
    after = batch[batch.length - 1]!.key;
    log.info("migrating the store", {
      indexed: done,
      of: total,
      percent: Math.floor((done / Math.max(1, total)) * 100),
    });
  }

  // Dead letters and replays: the same entries under tuple keys. Their old keys were
  // "sink NUL eventId" strings, read back by lmdb-js as that string when short and as the
  // array [sink, eventId] when long (the format-1 flaw itself).
  const oldDead = root.openDB<DeadLetter, string | string[]>({ name: DELIVERY_DBS.dead });
  const oldReplay = root.openDB<string, string | string[]>({
    name: DELIVERY_DBS.replay,
    encoding: "string",
  });
  const dead = [...oldDead.getRange()];
  const replays = [...oldReplay.getRange()];
  const newDead = root.openDB<DeadLetter, Uint8Array>({
    name: DELIVERY_DBS.dead,
    keyEncoding: "binary",
  });
  const newReplay = root.openDB<string, Uint8Array>({
    name: DELIVERY_DBS.replay,
    keyEncoding: "binary",
    encoding: "string",
  });
  root.openDB({ name: "instance-index" }).dropSync();
  root.transactionSync(() => {
    for (const { key, value } of dead) {
      oldDead.removeSync(key);
      newDead.putSync(deliveryKey(value.sink, value.eventId), value);
    }
    for (const { key, value } of replays) {
      oldReplay.removeSync(key);
      const [sink, eventId] = Array.isArray(key)
        ? key
        : [key.slice(0, -EVENT_ID_LENGTH - 1), key.slice(-EVENT_ID_LENGTH)];
      newReplay.putSync(deliveryKey(sink!, eventId!), value);
    }
    meta.putSync(FORMAT_KEY, STORE_FORMAT);
  });
  log.info("migrated the store to format 2", {
    events: total,
    deadLetters: dead.length,
    replays: replays.length,
    ms: Date.now() - started,
  });
}
