/**
 * The event writer thread. It opens the same LMDB environment as the main thread (lmdb-js
 * shares one environment per process) and commits every record that arrived since its last
 * commit in one transaction: in durable mode that commit is fsynced here, so the request
 * thread never pays for LMDB's puts, page writes or syncs, and one fsync covers every request
 * that was waiting on it. Records arrive and commit in the order the main thread sent them,
 * which is event-ID order: sink cursors rely on that.
 */
import { setImmediate } from "node:timers";
import { open, type Database, type RootDatabase } from "lmdb";
import { uuidv7Time } from "../events/ids.ts";
import { DailyDeviceLinks, linkKey } from "./link-index.ts";
import type { WriterMessage, WriterReply } from "./writer-protocol.ts";

declare const self: Worker;

let root: RootDatabase | null = null;
let dbs: {
  events: Database<string, string>;
  links: Database<string, Uint8Array>;
  clientIds: Database<string, string>;
  clientIdsByTime: Database<string, string>;
} | null = null;
let queue: { seq: number; records: string[] }[] = [];
let scheduled = false;
const daily = new DailyDeviceLinks();
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

const reply = (message: WriterReply) => postMessage(message);

/** Commits everything queued in one transaction and reports the last sequence number it held. */
function commit(): void {
  scheduled = false;
  const batches = queue;
  queue = [];
  if (batches.length === 0 || !dbs || !root) return;
  const { events, links, clientIds, clientIdsByTime } = dbs;
  const upTo = batches[batches.length - 1]!.seq;
  try {
    root.transactionSync(() => {
      for (const { records } of batches)
        for (let i = 0; i < records.length; ) {
          const eventId = records[i++]!;
          events.putSync(eventId, records[i++]!);
          const clientKey = records[i++]!;
          if (clientKey !== "") {
            clientIds.putSync(clientKey, eventId);
            clientIdsByTime.putSync(eventId, clientKey);
          }
          const accountId = records[i++]!;
          const shopper = records[i++]!;
          const ms = uuidv7Time(eventId);
          for (let n = Number(records[i++]); n > 0; n--, i += 2)
            if (daily.needs(accountId, records[i]!, records[i + 1]!, shopper, ms))
              links.putSync(linkKey(accountId, records[i]!, records[i + 1]!, eventId), shopper);
        }
    }, txnFlags);
    daily.committed();
    reply({ kind: "committed", upTo });
  } catch (err) {
    daily.rolledBack();
    reply({ kind: "failed", upTo, error: String(err) });
  }
}

self.onmessage = (e: MessageEvent<WriterMessage>) => {
  const message = e.data;
  switch (message.kind) {
    case "open":
      try {
        root = open(message.options);
        txnFlags = message.options.overlappingSync ? OVERLAPPING_SYNC_TXN : undefined;
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
        reply({ kind: "opened" });
      } catch (err) {
        reply({ kind: "failed", upTo: 0, error: String(err) });
      }
      return;
    case "write":
      queue.push(message);
      // Let every message already waiting join this commit: one transaction (one fsync) for all.
      if (!scheduled) {
        scheduled = true;
        setImmediate(commit);
      }
      return;
    case "close":
      commit();
      void root?.close().finally(() => reply({ kind: "closed" }));
      return;
  }
};
