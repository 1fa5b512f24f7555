/**
 * The data directory's store format, recorded as "schema" in the meta database. A newer trackd
 * migrates an older format when it opens the store; a trackd meeting a newer format refuses
 * to open it rather than misread it.
 *
 * 1: trackd 0.1.0. The instance index was keyed by NUL-joined strings, which lmdb-js stores
 *    differently below and above about 64 bytes: long, UUID and Unicode IDs went missing.
 * 2: trackd 0.2.0. The link index (link-index.ts) replaces the instance index; it and the
 *    dead letters and replay queue are keyed by tuple keys (tuple-key.ts).
 * 3: trackd 0.7.0. The long memory of visits (visit-memory.ts), and each lead's touches as
 *    attribution worked them out (event-store.ts leadTouches, worked out again when missing). It holds what retention
 *    deleted, so a store from format 2 starts it empty: its stored events are summed up
 *    into it as retention deletes them, as in a new store. The format moves on so that an
 *    older trackd, which would delete events without remembering them, refuses the store.
 */
import { EVENT_ID_LENGTH } from "../events/ids.ts";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readSync,
} from "node:fs";
import { open, type Database, type RootDatabase, type RootDatabaseOptionsWithPath } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import { shopperKeyOf, linksOf } from "../events/links.ts";
import type { Log } from "../telemetry/log.ts";
import { deliveryKey, type DeadLetter } from "./delivery-store.ts";
import { DELIVERY_DB_NAMES, eventsDb, linksDb, memoryDb, metaDb } from "./databases.ts";
import { linkKey } from "./link-index.ts";

export const STORE_FORMAT = 3;

const FORMAT_KEY = "schema";
const BATCH = 10_000;

/** The data directory holds a format this trackd cannot read. */
export class StoreFormatError extends Error {}

/**
 * LMDB's meta pages, as lmdb-js's LMDB writes them (pages 0 and 1, each after a 24-byte page
 * header): the magic number, the page size (the free-page database's md_pad), the last page
 * in use and the transaction ID. The newer of the two metas is the one in force.
 */
const LMDB_MAGIC = 0xbeefc0de;
const MAGIC_AT = 24;
const PAGE_SIZE_AT = 48;
const LAST_PAGE_AT = 144;
const TXN_ID_AT = 152;
const META_BYTES = TXN_ID_AT + 8;

/**
 * Throws StoreFormatError if `path` exists but is not an LMDB environment (a file truncated
 * to nothing, or not LMDB's at all), or is shorter than its own header says (truncated, say
 * by a copy cut short): lmdb-js crashes the process opening such a file (SIGSEGV, SIGBUS)
 * instead of returning an error. Also throws StoreFormatError when the file cannot be read.
 */
export function checkStoreFile(path: string): void {
  if (!existsSync(path)) return;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new StoreFormatError(
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): run trackd as the user that owns it`,
    );
  }
  try {
    const meta = (at: number): Buffer => {
      const bytes = Buffer.alloc(META_BYTES);
      return bytes.subarray(0, readSync(fd, bytes, 0, META_BYTES, at));
    };
    const first = meta(0);
    const pageSize = first.length === META_BYTES ? first.readUInt32LE(PAGE_SIZE_AT) : 0;
    // A page size LMDB could have written: a power of two from 512 bytes to 64 KiB.
    const validPageSize = pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
    if (!validPageSize || first.readUInt32LE(MAGIC_AT) !== LMDB_MAGIC)
      throw new StoreFormatError(`${path} is not an LMDB file: not a trackd store, or damaged`);
    const second = meta(pageSize);
    const newest =
      second.length === META_BYTES &&
      second.readBigUInt64LE(TXN_ID_AT) > first.readBigUInt64LE(TXN_ID_AT)
        ? second
        : first;
    const needed = (Number(newest.readBigUInt64LE(LAST_PAGE_AT)) + 1) * pageSize;
    // The size is read after the header: a running trackd (backup, verify) commits pages
    // before the header that names them, so the file can only have grown past what the
    // header read says. Read first, a commit in between looked like a truncated file.
    const size = fstatSync(fd).size;
    if (size < needed)
      throw new StoreFormatError(
        `${path} is ${size} bytes but its header says ${needed}: the file is truncated or damaged (restore it from a backup)`,
      );
  } finally {
    closeSync(fd);
  }
}

/**
 * Why the store file at `path` cannot be opened read-only (backup, verify), in one line, or
 * null if it can: missing, in a directory this user cannot read, or damaged (checkStoreFile).
 */
export function storeUnreadable(path: string): string | null {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `no store at ${path}`
      : `cannot read ${path} (${code ?? String(err)}): run this as the user that owns it`;
  }
  try {
    checkStoreFile(path);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
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
  if (found === undefined || found === 1) migrateFrom1(root, meta, events, log);
  migrateFrom2(root, meta, log);
}

/** Format 2 to 3: the long memory of visits, empty (see format 3 above). */
function migrateFrom2(root: RootDatabase, meta: Database<unknown, string>, log: Log): void {
  root.transactionSync(() => {
    memoryDb(root).clearSync();
    meta.putSync(FORMAT_KEY, 3);
  });
  log.info("migrated the store to format 3: the long memory of visits starts empty", {});
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
  const oldDead = root.openDB<DeadLetter, string | string[]>({ name: DELIVERY_DB_NAMES.dead });
  const oldReplay = root.openDB<string, string | string[]>({
    name: DELIVERY_DB_NAMES.replay,
    encoding: "string",
  });
  const dead = [...oldDead.getRange()];
  const replays = [...oldReplay.getRange()];
  const newDead = root.openDB<DeadLetter, Uint8Array>({
    name: DELIVERY_DB_NAMES.dead,
    keyEncoding: "binary",
  });
  const newReplay = root.openDB<string, Uint8Array>({
    name: DELIVERY_DB_NAMES.replay,
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
    meta.putSync(FORMAT_KEY, 2);
  });
  log.info("migrated the store to format 2", {
    events: total,
    deadLetters: dead.length,
    replays: replays.length,
    ms: Date.now() - started,
  });
}
