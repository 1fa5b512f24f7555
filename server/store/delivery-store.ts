/**
 * Delivery state in LMDB: each sink's cursor (the last event ID it has taken, in key order)
 * with its counters, dead letters (events a sink refused for good, kept with a copy of the
 * event so retention never loses them), and dead letters queued for replay.
 */
import { EVENT_ID_LENGTH } from "../events/ids.ts";
import type { Database, RootDatabase } from "lmdb";
import type { DeliveryItem } from "../events/event.model.ts";
import { cursorsDb, deadLettersDb, replayDb } from "./databases.ts";
import { keyTail, tupleKey, tupleRange } from "./tuple-key.ts";

export interface SinkCursor {
  /** Every event with a key up to and including this one has been delivered ("" = none). */
  cursor: string;
  delivered: number;
  failed: number;
  retries: number;
}

export interface DeadLetter {
  sink: string;
  eventId: string;
  at: string;
  cause: string;
  attempts: number;
  /** The event's JSON, as it was to be delivered. */
  json: string;
}

/** Dead letters and replays are keyed (sink, event ID) as tuple keys: any sink name range-reads exactly. */
export const deliveryKey = (sink: string, eventId: string) => tupleKey([sink], eventId);
const range = tupleRange;

export class DeliveryStore {
  private readonly cursors: Database<SinkCursor, string>;
  private readonly dead: Database<DeadLetter, Uint8Array>;
  private readonly replay: Database<string, Uint8Array>;

  constructor(root: RootDatabase) {
    this.cursors = cursorsDb(root);
    this.dead = deadLettersDb(root);
    this.replay = replayDb(root);
  }

  /** The databases, for storage accounting. */
  get databases(): Database<unknown, string>[] {
    return [this.cursors, this.dead, this.replay] as Database<unknown, string>[];
  }

  cursorOf(sink: string): SinkCursor {
    return this.cursors.get(sink) ?? { cursor: "", delivered: 0, failed: 0, retries: 0 };
  }

  /** Persists a sink's cursor and counters; rejects if that could not be committed. */
  async saveCursor(sink: string, state: SinkCursor): Promise<void> {
    await this.cursors.put(sink, { ...state });
  }

  /**
   * A delivered batch's bookkeeping, in one transaction: its dead letters, and the sink's cursor
   * moved past it (or, for replays, their queue entries removed). Rejects if it could not be
   * committed, and then none of it was: the batch is to be sent again.
   */
  async commitBatch(
    sink: string,
    batch: { deadLetters: DeadLetter[]; cursor: SinkCursor; replayed: string[] },
  ): Promise<void> {
    await this.cursors.transaction(() => {
      for (const letter of batch.deadLetters)
        this.dead.put(deliveryKey(letter.sink, letter.eventId), letter);
      for (const eventId of batch.replayed) this.replay.remove(deliveryKey(sink, eventId));
      this.cursors.put(sink, { ...batch.cursor });
    });
  }

  /** Dead letters, newest first, of one sink or all. */
  deadLetters(sink: string | undefined, limit: number): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const { value } of this.dead.getRange(sink ? range([sink]) : {})) out.push(value);
    return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit);
  }

  /** Dead-letter records for one event across sinks. */
  deadLettersOf(eventId: string, sinks: string[]): DeadLetter[] {
    return sinks
      .map((s) => this.dead.get(deliveryKey(s, eventId)))
      .filter((d): d is DeadLetter => d !== undefined);
  }

  isQueuedForReplay(sink: string, eventId: string): boolean {
    return this.replay.get(deliveryKey(sink, eventId)) !== undefined;
  }

  /** Queues dead letters (of one sink or all) for redelivery; resolves with how many. */
  async requeue(sink?: string): Promise<number> {
    let n = 0;
    await this.cursors.transaction(() => {
      for (const { key: k, value } of this.dead.getRange(sink ? range([sink]) : {})) {
        this.replay.put(k, value.json);
        this.dead.remove(k);
        n++;
      }
    });
    return n;
  }

  /**
   * How many dead letters and queued replays these events have, every sink's; with `remove`,
   * their removal is queued too (an erasure: call inside its batch).
   */
  forgetEvents(eventIds: ReadonlySet<string>, remove: boolean): number {
    let n = 0;
    for (const db of [this.dead, this.replay] as Database<unknown, Uint8Array>[])
      for (const key of db.getKeys())
        if (eventIds.has(keyTail(key, EVENT_ID_LENGTH))) {
          if (remove) db.remove(key);
          n++;
        }
    return n;
  }

  /** Up to `limit` queued replays of a sink, in event order. */
  replays(sink: string, limit: number): DeliveryItem[] {
    const out: DeliveryItem[] = [];
    for (const { key: k, value } of this.replay.getRange({ ...range([sink]), limit }))
      out.push({ eventId: keyTail(k, EVENT_ID_LENGTH), json: value });
    return out;
  }

  replayCount(sink: string): number {
    return this.replay.getKeysCount(range([sink]));
  }

  deadLetterCount(sink: string): number {
    return this.dead.getKeysCount(range([sink]));
  }
}
