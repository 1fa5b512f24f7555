/**
 * The event writer thread. It opens the same LMDB environment as the main thread (lmdb-js
 * shares one environment per process) and commits every record that arrived since its last
 * commit in one transaction: in durable mode that commit is fsynced here, so no request
 * thread pays for LMDB's puts, page writes or syncs, and one fsync covers every request that
 * was waiting on it.
 *
 * It is the one place event IDs are made: every request thread (the main one, and those of
 * `workers`, through ports) sends records without IDs, and the writer makes each record's
 * UUIDv7 as it puts it. So ID order is commit order whichever thread a request came in on,
 * which sink cursors rely on. It also settles client event IDs for good: a record whose
 * client key is already stored (within the dedupe window), even by a record earlier in the
 * same transaction from another thread, is answered as a duplicate and not stored.
 */
import { setImmediate } from "node:timers";
import { open, type Database, type RootDatabase } from "lmdb";
import { createUuidv7, uuidv7Time } from "../events/ids.ts";
import { DailyDeviceLinks, linkKey } from "./link-index.ts";
import {
  DUPLICATE_OF,
  UNASSIGNED_ID,
  type WriterMessage,
  type WriterRecords,
  type WriterReply,
} from "./writer-protocol.ts";

declare const self: Worker;

/** Where a client's writes came from and where its answers go. */
type Reply = (message: WriterReply) => void;

let root: RootDatabase | null = null;
let dbs: {
  events: Database<string, string>;
  links: Database<string, Uint8Array>;
  clientIds: Database<string, string>;
  clientIdsByTime: Database<string, string>;
} | null = null;
let dedupeWindowMs = 0;
let queue: { reply: Reply; seq: number; records: WriterRecords }[] = [];
let scheduled = false;
const daily = new DailyDeviceLinks();
const ids = createUuidv7();
/**
 * lmdb-js transaction flags: its default (3) plus LMDB's MDB_NOSYNC (0x10000). In an
 * environment opened with overlappingSync (durable mode), LMDB then fsyncs *inside* the
 * commit call but after releasing the write lock: the commit returns once the transaction is
 * on disk, and other writers proceed during the fsync. (lmdb-js's own overlapping-sync
 * writes use the same mode.) Without overlappingSync (relaxed), the environment's noSync
 * applies and the default flags are used.
 */
const LMDB_JS_DEFAULT_TXN_FLAGS = 0x3; // lmdb-js's transactionSync default (lmdb-js exports no names for these)
const MDB_NOSYNC = 0x10000; // LMDB's own flag (lmdb.h)
const OVERLAPPING_SYNC_TXN = LMDB_JS_DEFAULT_TXN_FLAGS | MDB_NOSYNC;
let txnFlags: number | undefined;

const toMain: Reply = (message) => postMessage(message);

/**
 * Puts one record (starting at `i`) inside the open transaction and returns its result (the
 * event ID, or DUPLICATE_OF and the stored one's) and where the next record starts.
 */
function put(records: WriterRecords, i: number): { result: string; next: number } {
  const { events, links, clientIds, clientIdsByTime } = dbs!;
  const given = records[i]!;
  const json = records[i + 1]!;
  const clientKey = records[i + 2]!;
  const accountId = records[i + 3]!;
  const shopper = records[i + 4]!;
  const receivedMs = Number(records[i + 5]);
  const linkCount = Number(records[i + 6]);
  const next = i + 7 + 2 * linkCount;
  if (clientKey !== "") {
    // Reads inside a write transaction see its own puts: a twin earlier in this commit counts.
    const stored = clientIds.get(clientKey);
    if (stored !== undefined && uuidv7Time(stored) > receivedMs - dedupeWindowMs)
      return { result: DUPLICATE_OF + stored, next };
  }
  let eventId = given;
  if (eventId === "") {
    if (!json.startsWith(UNASSIGNED_ID))
      throw new Error("a record without an ID has no room for one");
    eventId = ids.next(receivedMs);
    events.putSync(eventId, `{"eventId":"${eventId}"${json.slice(UNASSIGNED_ID.length)}`);
  } else {
    ids.seed(eventId); // an ID given by the caller (a test, an import): later ones sort after it
    events.putSync(eventId, json);
  }
  if (clientKey !== "") {
    clientIds.putSync(clientKey, eventId);
    clientIdsByTime.putSync(eventId, clientKey);
  }
  const ms = uuidv7Time(eventId);
  for (let at = i + 7; at < next; at += 2)
    if (daily.needs(accountId, records[at]!, records[at + 1]!, shopper, ms))
      links.putSync(linkKey(accountId, records[at]!, records[at + 1]!, eventId), shopper);
  return { result: eventId, next };
}

/** Commits everything queued in one transaction and answers each client for its writes. */
function commit(): void {
  scheduled = false;
  const batches = queue;
  queue = [];
  if (batches.length === 0 || !dbs || !root) return;
  const answers = new Map<Reply, { upTo: number; results: string[] }>();
  for (const { reply, seq } of batches) {
    const answer = answers.get(reply);
    if (answer) answer.upTo = seq;
    else answers.set(reply, { upTo: seq, results: [] });
  }
  try {
    root.transactionSync(() => {
      for (const { reply, records } of batches) {
        const { results } = answers.get(reply)!;
        for (let i = 0; i < records.length; ) {
          const { result, next } = put(records, i);
          results.push(result);
          i = next;
        }
      }
    }, txnFlags);
    daily.committed();
    for (const [reply, { upTo, results }] of answers) reply({ kind: "committed", upTo, results });
  } catch (err) {
    daily.rolledBack();
    // IDs made for a transaction that failed are not reused: the generator only moves forward.
    for (const [reply, { upTo }] of answers) reply({ kind: "failed", upTo, error: String(err) });
  }
}

/** Queues a client's write for the next commit; every message already waiting joins it (one fsync for all). */
function enqueue(reply: Reply, seq: number, records: WriterRecords): void {
  queue.push({ reply, seq, records });
  if (!scheduled) {
    scheduled = true;
    setImmediate(commit);
  }
}

self.onmessage = (e: MessageEvent<WriterMessage>) => {
  const message = e.data;
  switch (message.kind) {
    case "open":
      try {
        root = open(message.options);
        txnFlags = message.options.overlappingSync ? OVERLAPPING_SYNC_TXN : undefined;
        dedupeWindowMs = message.dedupeWindowMs;
        dbs = {
          events: root.openDB({ name: message.names.events, encoding: "string" }),
          links: root.openDB({
            name: message.names.links,
            keyEncoding: "binary",
            encoding: "string",
          }),
          clientIds: root.openDB({ name: message.names.clientIds, encoding: "string" }),
          clientIdsByTime: root.openDB({ name: message.names.clientIdsByTime, encoding: "string" }),
        };
        // IDs keep increasing across restarts even if the clock stepped back, or a sink
        // cursor past the newest stored event would skip the next ones.
        for (const newest of dbs.events.getKeys({ reverse: true, limit: 1 })) ids.seed(newest);
        toMain({ kind: "opened" });
      } catch (err) {
        toMain({ kind: "failed", upTo: 0, error: String(err) });
      }
      return;
    case "client": {
      const { port } = message;
      const reply: Reply = (answer) => port.postMessage(answer);
      port.onmessage = (m: MessageEvent<WriterMessage>) => {
        if (m.data.kind === "write") enqueue(reply, m.data.seq, m.data.records);
      };
      return;
    }
    case "write":
      enqueue(toMain, message.seq, message.records);
      return;
    case "close":
      commit();
      void root?.close().finally(() => toMain({ kind: "closed" }));
      return;
  }
};
