/** Messages between the event store (main thread) and its writer thread (writer-worker.ts). */
import type { RootDatabaseOptionsWithPath } from "lmdb";

/**
 * Records travel as strings in one flat array (cheap to pass between threads). Each record:
 * eventId, JSON text, client key ("" if none), account ID, shopper key ("" if none), the number
 * of links N, then N pairs of link kind and value (events/links.ts).
 */
export type WriterRecords = string[];

/** The databases the writer puts into, by name. */
export interface WriterDbNames {
  events: string;
  links: string;
  clientIds: string;
  clientIdsByTime: string;
}

export type WriterMessage =
  | { kind: "open"; options: RootDatabaseOptionsWithPath; names: WriterDbNames }
  | { kind: "write"; seq: number; records: WriterRecords }
  | { kind: "close" };

export type WriterReply =
  | { kind: "opened" }
  /** Every write up to and including sequence number `upTo` is committed (and, durable, on disk). */
  | { kind: "committed"; upTo: number }
  | { kind: "failed"; upTo: number; error: string }
  | { kind: "closed" };
