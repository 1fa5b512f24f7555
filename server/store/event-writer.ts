/**
 * Appending events: the event, its link index entries and its client key are put with
 * lmdb-js's own asynchronous writes, from the thread that took the request. lmdb-js commits
 * everything put in one turn of the event loop in one transaction, on its native write
 * thread, so concurrent requests share a commit and, durable, its fsync. Event IDs are made
 * here as the puts are queued, and lmdb-js commits in queue order: key order is commit
 * order, which sink cursors rely on (a cursor never passes an event that commits later).
 *
 * Measured against the writer thread it replaced (docs/performance.md): faster durable and
 * relaxed, with nothing in between to keep in step.
 */
import type { Database, RootDatabase } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import type { Customer } from "../events/lead-details.ts";
import { createUuidv7 } from "../events/ids.ts";
import { shopperKeyOf } from "../events/links.ts";
import type { ClientIds } from "./client-ids.ts";
import type { ContactVault } from "./contact-vault.ts";
import { DailyDeviceLinks, linkKey } from "./link-index.ts";
import type { Suppressions } from "./suppressions.ts";

export type Durability = "durable" | "relaxed";

/**
 * What an append's promise has waited for, by mode. durable: the transaction holding the
 * event is committed and fsynced (it survives a power cut). relaxed: committed, in the OS
 * page cache (it survives `kill -9` of trackd, not a crash of the machine).
 */
export type Kept<D extends Durability = Durability> = D extends "durable" ? "on-disk" : "committed";

/** What became of an appended event. */
export interface Written {
  /** The stored event's ID; for a duplicate, the ID of the event stored under its client key. */
  eventId: string;
  duplicate: boolean;
  kept: Kept;
  /** Characters of JSON stored (0 for a duplicate): what retention's headroom counts down by. */
  size: number;
}

export class EventWriter {
  private readonly daily = new DailyDeviceLinks();
  /** This store's event IDs: its own sequence, so that key order is this store's commit order. */
  private readonly ids = createUuidv7();
  private readonly kept: Kept;
  /** The newest append, settled either way: commits are in order, so all before it are too. */
  private last: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly root: RootDatabase,
    private readonly events: Database<string, string>,
    private readonly links: Database<string, Uint8Array>,
    private readonly clientIds: ClientIds,
    private readonly contacts: ContactVault,
    private readonly suppressions: Suppressions,
    durability: Durability,
  ) {
    this.kept = durability === "durable" ? "on-disk" : "committed";
    // IDs keep increasing across restarts even if the clock stepped back, or a sink cursor
    // past the newest stored event would skip the next ones.
    for (const newest of events.getKeys({ reverse: true, limit: 1 })) this.ids.seed(newest);
  }

  /**
   * Stores the event (an `eventId` of "" gets one here, in commit order; a given one is kept:
   * tests, imports), with its links, its customer sealed (if given) and its client key (if
   * given), in one transaction. Identifiers erased on request are left out first
   * (suppressions.ts): no link, and no customer kept.
   * Resolves as Kept says; for a client key stored already (within the dedupe window) or
   * being stored now, with that event's ID as a duplicate and nothing stored. Rejects if the
   * transaction failed.
   */
  async write(
    event: TrackedEvent,
    receivedMs: number,
    clientKey: string | null,
    customer?: Customer,
  ): Promise<Written> {
    if (this.closed) throw new Error("the event store is closed");
    if (clientKey !== null)
      for (let prior = this.clientIds.lookup(clientKey, receivedMs); prior !== null; ) {
        const eventId = await prior;
        if (eventId !== null) return { eventId, duplicate: true, kept: this.kept, size: 0 };
        prior = this.clientIds.lookup(clientKey, receivedMs); // that one failed: try again
      }
    if (event.eventId === "") event.eventId = this.ids.next(receivedMs);
    else this.ids.seed(event.eventId); // later IDs sort after a given one
    const { eventId } = event;
    const remembered: string[] = [];
    const { links, dropCustomer } = this.suppressions.apply(event);
    const json = JSON.stringify(event);
    const sealed =
      customer && !dropCustomer ? this.contacts.seal(eventId, receivedMs, customer) : null;
    const commit = this.root.batch(() => {
      this.events.put(eventId, json);
      if (sealed) this.contacts.put(eventId, sealed);
      if (clientKey !== null) this.clientIds.put(clientKey, eventId);
      const shopper = shopperKeyOf(event);
      for (let i = 0; i < links.length; i += 2) {
        const memo = this.daily.needs(
          event.accountId,
          links[i]!,
          links[i + 1]!,
          shopper,
          receivedMs,
        );
        if (memo === false) continue;
        if (memo !== "") remembered.push(memo);
        this.links.put(linkKey(event.accountId, links[i]!, links[i + 1]!, eventId), shopper);
      }
    });
    // lmdb-js resolves a write once its transaction is committed and, durable (overlapping
    // sync, open-store.ts), flushed to disk: what Kept says.
    const written = commit.then(
      (): Written => ({ eventId, duplicate: false, kept: this.kept, size: json.length }),
      (err: unknown) => {
        for (const memo of remembered) this.daily.forget(memo);
        throw err;
      },
    );
    if (clientKey !== null) this.clientIds.storing(clientKey, written);
    this.last = written.catch(() => {});
    return written;
  }

  /** The next event ID, in commit order: for an event put in a batch of its own (an erasure record). */
  nextId(receivedMs: number): string {
    return this.ids.next(receivedMs);
  }

  /**
   * Forgets which device links were written today: after an erasure removed some, the next
   * event of a device that is not suppressed writes its links again.
   */
  forgetDailyLinks(): void {
    this.daily.clear();
  }

  /** Waits for every append so far to settle; later ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.last;
  }
}
