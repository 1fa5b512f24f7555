/**
 * `trackd verify`: reads a data directory (a live one, or a backup) without changing it and
 * says whether it is whole: the store format, every event readable and filed under its own
 * ID, every link the journey needs present and none pointing at the wrong event, and where
 * each sink's cursor is.
 */
import { EVENT_ID_LENGTH } from "../events/ids.ts";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import { linksOf, PER_DEVICE_KINDS, shopperKeyOf } from "../events/links.ts";
import { cursorsDb, deadLettersDb, eventsDb, linksDb } from "./databases.ts";
import { linkKey } from "./link-index.ts";
import { STORE_FILE, STORE_OPTIONS } from "./open-store.ts";
import { storeUnreadable, STORE_FORMAT, storeFormatOf } from "./store-format.ts";
import { keyTail } from "./tuple-key.ts";

/** Problems listed one by one before the rest are only counted. */
const SHOWN = 20;

export interface VerifyReport {
  path: string;
  format: number | null;
  events: number;
  firstEventId: string | null;
  lastEventId: string | null;
  links: number;
  /** Link entries whose event is gone: retention removes both, and readers skip these. */
  danglingLinks: number;
  sinks: { name: string; cursor: string; behind: number }[];
  deadLetters: number;
  /** What is wrong; empty when the directory is whole. */
  problems: string[];
  /** Problems beyond the ones listed. */
  moreProblems: number;
}

/** Verifies the store in `dataDir`, read-only (a running trackd may keep writing). */
export async function verifyStore(dataDir: string): Promise<VerifyReport> {
  const path = join(dataDir, STORE_FILE);
  const report: VerifyReport = {
    path,
    format: null,
    events: 0,
    firstEventId: null,
    lastEventId: null,
    links: 0,
    danglingLinks: 0,
    sinks: [],
    deadLetters: 0,
    problems: [],
    moreProblems: 0,
  };
  const problem = (text: string) => {
    if (report.problems.length < SHOWN) report.problems.push(text);
    else report.moreProblems++;
  };
  const unreadable = storeUnreadable(path);
  if (unreadable) {
    problem(unreadable);
    return report;
  }
  // LMDB makes a lock file beside the store it opens: one made here (in a backup) goes after.
  const lockFile = `${path}-lock`;
  const ownLock = !existsSync(lockFile);
  const root = open({ ...STORE_OPTIONS, path, readOnly: true });
  const events = eventsDb(root);
  const links = linksDb(root);
  const cursors = cursorsDb(root);
  const dead = deadLettersDb(root);
  // Every database is opened before the read transaction starts: lmdb-js cannot open one
  // inside it on a read-only environment.
  report.format = storeFormatOf(root) ?? null;
  // One read transaction for every read: a consistent view while trackd writes.
  const transaction = root.useReadTransaction();
  const at = { transaction };
  try {
    if (report.format !== STORE_FORMAT) {
      problem(`store format ${report.format ?? 1}; this trackd reads format ${STORE_FORMAT}`);
      return report;
    }
    for (const { key, value } of events.getRange(at)) {
      report.events++;
      report.firstEventId ??= key;
      report.lastEventId = key;
      let event: TrackedEvent;
      try {
        event = JSON.parse(value) as TrackedEvent;
      } catch {
        problem(`event ${key}: stored JSON does not parse`);
        continue;
      }
      if (event.eventId !== key) {
        problem(`event ${key}: filed under another ID than its own (${event.eventId})`);
        continue;
      }
      // Per-device identifiers are indexed once per device and day, not on every event.
      const shopper = shopperKeyOf(event);
      const pairs = linksOf(event);
      for (let i = 0; i < pairs.length; i += 2) {
        if (PER_DEVICE_KINDS.has(pairs[i]!)) continue;
        const found = links.get(linkKey(event.accountId, pairs[i]!, pairs[i + 1]!, key), at);
        // A suppressed event (suppressions.ts) has no link for an erased instance ID it keeps.
        if (found === undefined && event.context.suppressed) continue;
        if (found === undefined) problem(`event ${key}: its ${pairs[i]} link is missing`);
        else if (found !== shopper)
          problem(`event ${key}: its ${pairs[i]} link names another shopper`);
      }
    }
    for (const { key } of links.getRange(at)) {
      report.links++;
      const eventId = keyTail(key, EVENT_ID_LENGTH);
      const json = events.get(eventId, at);
      if (json === undefined) {
        report.danglingLinks++;
        continue;
      }
      const event = JSON.parse(json) as TrackedEvent;
      const pairs = linksOf(event);
      let own = false;
      for (let i = 0; i < pairs.length && !own; i += 2)
        own = sameBytes(linkKey(event.accountId, pairs[i]!, pairs[i + 1]!, eventId), key);
      if (!own) problem(`a link entry points at event ${eventId}, which does not carry it`);
    }
    for (const { key: name, value } of cursors.getRange(at)) {
      // A cursor past the newest event is no fault: retention deletes delivered events.
      const behind = events.getCount({ start: value.cursor, exclusiveStart: true, transaction });
      report.sinks.push({ name, cursor: value.cursor, behind });
    }
    report.deadLetters = dead.getCount(at);
  } finally {
    transaction.done();
    await root.close();
    if (ownLock) rmSync(lockFile, { force: true });
  }
  return report;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
