/** Messages between the event writer thread (writer-worker.ts) and its clients (event-writer.ts). */
import type { RootDatabaseOptionsWithPath } from "lmdb";

/**
 * Records travel as strings in one flat array (cheap to pass between threads). Each record:
 * the event ID ("" for the writer to make one), the JSON text (starting with UNASSIGNED_ID
 * when the ID is the writer's to make), the client key ("" if none), the account ID, the
 * shopper key ("" if none), the receipt time in ms, the number of links N, then N pairs of
 * link kind and value (events/links.ts).
 */
export type WriterRecords = string[];

/** How a record's JSON text starts when the writer makes its event ID (the ID is the first field). */
export const UNASSIGNED_ID = '{"eventId":""';

/** A result naming an event already stored under the record's client key: this mark, then its ID. */
export const DUPLICATE_OF = "=";

/** The databases the writer puts into, by name. */
export interface WriterDbNames {
  events: string;
  links: string;
  clientIds: string;
  clientIdsByTime: string;
}

export type WriterMessage =
  | {
      kind: "open";
      options: RootDatabaseOptionsWithPath;
      names: WriterDbNames;
      /** How long a client key makes a later record with the same key a duplicate. */
      dedupeWindowMs: number;
    }
  /** Another client (a request thread): its writes arrive and are answered on this port. */
  | { kind: "client"; port: MessagePort }
  | { kind: "write"; seq: number; records: WriterRecords }
  | { kind: "close" };

export type WriterReply =
  | { kind: "opened" }
  /**
   * Every write of this client up to and including sequence number `upTo` is committed (and,
   * durable, on disk). `results` has one entry per record of those writes, in order: the
   * stored event's ID, or DUPLICATE_OF and the ID of the event stored under its client key.
   */
  | { kind: "committed"; upTo: number; results: string[] }
  | { kind: "failed"; upTo: number; error: string }
  | { kind: "closed" };
