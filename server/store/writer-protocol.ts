/** Messages between the event store (main thread) and its writer thread (writer-worker.ts). */
import type { RootDatabaseOptionsWithPath } from "lmdb";

/** Each record is four strings in a flat array: eventId, JSON text, index key, client key ("" if none). */
export const RECORD_FIELDS = 4;

/** The databases the writer puts into, by name. */
export interface WriterDbNames {
  events: string;
  index: string;
  clientIds: string;
  clientIdsByTime: string;
}

export type WriterMessage =
  | { kind: "open"; options: RootDatabaseOptionsWithPath; names: WriterDbNames }
  | { kind: "write"; seq: number; records: string[] }
  | { kind: "close" };

export type WriterReply =
  | { kind: "opened" }
  /** Every write up to and including sequence number `upTo` is committed (and, durable, on disk). */
  | { kind: "committed"; upTo: number }
  | { kind: "failed"; upTo: number; error: string }
  | { kind: "closed" };
