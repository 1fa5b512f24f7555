/**
 * Events keyed by event ID (UUIDv7, so key order is arrival order), stored as their JSON text
 * so that what a sink receives is exactly what was stored, plus the link index
 * (link-index.ts) by (account, instance ID or identifier) for timelines and journeys.
 */
import { setImmediate } from "node:timers";
import type { Database } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import type { Customer } from "../events/lead-details.ts";
import { EventReader, type DeliveryRead } from "./event-reader.ts";
import type { EventWriter, Written } from "./event-writer.ts";
import type { LinkIndex } from "./link-index.ts";
import { walkPaced, walkToEnd, type Walk } from "./scan-budget.ts";
import type { TrackerStats } from "./tracker-stats.ts";
import type { VisitMemory } from "./visit-memory.ts";

export interface EventFilter {
  accountId?: string;
  trackerId?: string;
  instanceId?: string;
  action?: string;
  object?: string;
  vendor?: string;
  product?: string;
  test?: boolean;
}

export interface EventPage {
  events: TrackedEvent[];
  /** Pass as `before` to continue, or null at the oldest event. */
  next: string | null;
}

/** How many stored events one list call may read before it returns what it found. */
const SCAN_LIMIT = 20000;
/** Events a list reads between two points where it may pause (listPaced). */
const SCAN_PACE = 100;

/** A key that sorts before every event ID made at or after `ms` (a UUIDv7 time prefix). */
export function timeKey(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8)}`;
}

export class EventStore {
  private readonly appendListeners = new Set<(size: number) => void>();
  private readonly eventListeners = new Set<(event: TrackedEvent) => void>();
  private readonly reader: EventReader;

  constructor(
    private readonly events: Database<string, string>,
    readonly links: LinkIndex,
    readonly memory: VisitMemory,
    /**
     * Each lead's touches as attribution worked them out (journey/lead-touches.ts), as JSON by
     * the lead's event ID: kept beside the lead, deleted with it.
     */
    readonly leadTouches: Database<string, string>,
    private readonly stats: Pick<TrackerStats, "record" | "countActivity" | "countBot">,
    private readonly writer: EventWriter,
  ) {
    this.reader = new EventReader(events);
  }

  /**
   * Stores an event with its link index entries and (if given) its customer, sealed, and its client key (EventWriter:
   * an eventId of "" gets one, in commit order). Resolves once kept as the store's durability
   * says (Written.kept), or as a duplicate (nothing stored) if the client key is stored
   * already; rejects if it could not be stored.
   */
  async append(
    event: TrackedEvent,
    receivedMs: number = Date.parse(event.receivedAt),
    clientKey: string | null = null,
    customer?: Customer,
  ): Promise<Written> {
    const written = await this.writer.write(event, receivedMs, clientKey, customer);
    if (written.duplicate) return written;
    this.stats.record(
      event.accountId,
      event.trackerId,
      event.test ? "test" : "accepted",
      event.receivedAt,
      receivedMs,
    );
    if (event.context.bot) this.stats.countBot(event.accountId, event.trackerId);
    for (const listener of this.appendListeners) listener(written.size);
    for (const listener of this.eventListeners) listener(event);
    return written;
  }

  /** Calls `listener` after each event stored, with its size (delivery's wake-up, retention's headroom). */
  onAppend(listener: (size: number) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Calls `listener` with each event stored (the live event stream). */
  onEvent(listener: (event: TrackedEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Events after `cursor` for delivery (EventReader.readAfter). */
  readAfter(cursor: string, maxEvents: number, maxBytes: number): DeliveryRead {
    return this.reader.readAfter(cursor, maxEvents, maxBytes);
  }

  /** How many events are stored after `cursor`, and the ID of the first one. */
  after(cursor: string): { count: number; first: string | null } {
    return this.reader.after(cursor);
  }

  /**
   * Rebuilds the in-memory activity buckets from the events stored since `sinceMs`, yielding to
   * the event loop every few thousand events so a large store does not delay serving.
   */
  async replayActivity(sinceMs: number): Promise<number> {
    let n = 0;
    for (const { value } of this.events.getRange({ start: timeKey(sinceMs) })) {
      const { accountId, trackerId, receivedAt, context } = JSON.parse(value) as TrackedEvent;
      // trackd's own erasure records were never counted as a tracker's events.
      if (context.source !== "trackd")
        this.stats.countActivity(accountId, trackerId, Date.parse(receivedAt));
      // Small slices: after a restart with a large backlog this runs while requests arrive.
      if (++n % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    return n;
  }

  /** The newest event ID, or null. */
  lastEventId(): string | null {
    for (const key of this.events.getKeys({ reverse: true, limit: 1 })) return key;
    return null;
  }

  /**
   * Deletes up to `limit` oldest events with keys at or before `upTo` (inclusive), with their
   * link index entries, and keeps what journeys need of those that happened at or after
   * `rememberSince` in the long memory of visits, in the same transaction (visit-memory.ts).
   * Server events that `keep` says (leads) stay while they happened at or after
   * `rememberSince`: the Leads page, attribution and the conversion files read them for the
   * whole lookback. Resolves with how many went, once committed.
   */
  async deleteUpTo(
    upTo: string,
    limit: number,
    rememberSince: string,
    keep: (event: TrackedEvent) => boolean = () => false,
  ): Promise<number> {
    const gone: { key: string; event: TrackedEvent }[] = [];
    for (const { key, value } of this.events.getRange({})) {
      if (key > upTo || gone.length === limit) break;
      const event = JSON.parse(value) as TrackedEvent;
      if (event.context.source === "server" && event.occurredAt >= rememberSince && keep(event))
        continue;
      gone.push({ key, event });
    }
    if (gone.length === 0) return 0;
    await this.events.batch(() => {
      this.memory.remember(
        gone.map((g) => g.event),
        rememberSince,
      );
      for (const { key, event } of gone) {
        this.links.remove(event).catch(() => {}); // the batch itself rejects if it failed
        if (event.context.source === "server") this.leadTouches.remove(key).catch(() => {});
        this.events.remove(key);
      }
    });
    return gone.length;
  }

  /**
   * An erasure (journey/erasure.ts), in one transaction: deletes `events` with their link
   * index entries and lead touches, forgets `traces` of the long memory, stores the erasure
   * `records` for sinks (made with `record`: they link to nothing), and queues whatever
   * `alsoInBatch` puts. Resolves with how many events and traces went, once committed.
   */
  async erase(
    erased: { events: TrackedEvent[]; traces: { accountId: string; id: string }[] },
    records: TrackedEvent[],
    alsoInBatch: () => void,
  ): Promise<{ events: number; traces: number }> {
    let gone = 0;
    let forgotten = 0;
    const stored = records.map((r) => ({ event: r, json: JSON.stringify(r) }));
    await this.events.batch(() => {
      forgotten = this.memory.forget(erased.traces);
      for (const event of erased.events) {
        if (this.events.get(event.eventId) === undefined) continue;
        gone++;
        this.links.remove(event).catch(() => {}); // the batch itself rejects if it failed
        if (event.context.source === "server")
          this.leadTouches.remove(event.eventId).catch(() => {});
        this.events.remove(event.eventId);
      }
      for (const { event, json } of stored) this.events.put(event.eventId, json);
      alsoInBatch();
    });
    this.writer.forgetDailyLinks();
    for (const { event, json } of stored) {
      for (const listener of this.appendListeners) listener(json.length);
      for (const listener of this.eventListeners) listener(event);
    }
    return { events: gone, traces: forgotten };
  }

  /**
   * The stored events of `accountIds` with a string field exactly equal to one of `values`
   * (compared lower case), whatever the field: what an erasure finds beyond the links (a bot's
   * event, which links to nothing; an e-mail a vendor put among the properties). Reads every
   * stored event, yielding to the event loop every few thousand.
   */
  async mentioning(accountIds: ReadonlySet<string>, values: string[]): Promise<TrackedEvent[]> {
    const tokens = values.map((v) => JSON.stringify(v.toLowerCase()));
    const found: TrackedEvent[] = [];
    if (tokens.length === 0) return found;
    let n = 0;
    for (const { value } of this.events.getRange({})) {
      if (++n % 2000 === 0) await new Promise((r) => setImmediate(r));
      const text = value.toLowerCase();
      if (!tokens.some((t) => text.includes(t))) continue;
      const event = JSON.parse(value) as TrackedEvent;
      if (accountIds.has(event.accountId)) found.push(event);
    }
    return found;
  }

  /** An ID for an event stored by `erase`, in commit order with every other. */
  nextEventId(receivedMs: number): string {
    return this.writer.nextId(receivedMs);
  }

  /** The databases, for storage accounting. */
  get databases(): Database<unknown, string>[] {
    return [this.events, this.links.database, this.memory.database, this.leadTouches] as Database<
      unknown,
      string
    >[];
  }

  /** The stored event, or undefined. */
  get(eventId: string): TrackedEvent | undefined {
    const json = this.events.get(eventId);
    return json === undefined ? undefined : (JSON.parse(json) as TrackedEvent);
  }

  /** The stored JSON text of an event, exactly as sinks receive it. */
  getJson(eventId: string): string | undefined {
    return this.events.get(eventId);
  }

  /** Number of stored events. */
  count(): number {
    return this.events.getCount();
  }

  /** Newest first, optionally before an event ID, filtered. Reads at most SCAN_LIMIT events per call. */
  list(filter: EventFilter, limit: number, before?: string): EventPage {
    return walkToEnd(this.walkList(filter, limit, before));
  }

  /** Every event of an account that shares an instance ID, oldest first. */
  timeline(accountId: string, instanceId: string, limit: number): TrackedEvent[] {
    const out: TrackedEvent[] = [];
    for (const { eventId } of this.links.entries(accountId, "instance", instanceId, { limit })) {
      const event = this.get(eventId);
      if (event) out.push(event);
    }
    return out;
  }

  /** list, paced by `pace` every SCAN_PACE events read: the admin API awaits its ScanBudget there. */
  listPaced(
    filter: EventFilter,
    limit: number,
    before: string | undefined,
    pace: () => Promise<void>,
  ): Promise<EventPage> {
    return walkPaced(this.walkList(filter, limit, before), pace);
  }

  /** Newest first, at most `limit` matches and SCAN_LIMIT events read; yields every SCAN_PACE read. */
  private *walkList(filter: EventFilter, limit: number, before?: string): Walk<EventPage> {
    const out: TrackedEvent[] = [];
    let scanned = 0;
    if (filter.accountId && filter.instanceId) {
      for (const { eventId } of this.links.entries(
        filter.accountId,
        "instance",
        filter.instanceId,
        { reverse: true, from: before },
      )) {
        const event = this.get(eventId);
        if (event && matches(event, filter)) out.push(event);
        if (out.length >= limit || ++scanned >= SCAN_LIMIT) return { events: out, next: eventId };
        if (scanned % SCAN_PACE === 0) yield;
      }
      return { events: out, next: null };
    }
    for (const { key, value } of this.events.getRange({
      reverse: true,
      ...(before ? { start: before } : {}),
    })) {
      if (key === before) continue;
      const event = JSON.parse(value) as TrackedEvent;
      if (matches(event, filter)) out.push(event);
      if (out.length >= limit || ++scanned >= SCAN_LIMIT) return { events: out, next: key };
      if (scanned % SCAN_PACE === 0) yield;
    }
    return { events: out, next: null };
  }
}

/** True if the event passes every filter that is set. */
export function matches(event: TrackedEvent, filter: EventFilter): boolean {
  return (
    (filter.accountId === undefined || event.accountId === filter.accountId) &&
    (filter.trackerId === undefined || event.trackerId === filter.trackerId) &&
    (filter.instanceId === undefined || event.instanceId === filter.instanceId) &&
    (filter.action === undefined || event.action === filter.action) &&
    (filter.object === undefined || event.object === filter.object) &&
    (filter.vendor === undefined || event.vendor === filter.vendor) &&
    (filter.product === undefined || event.product === filter.product) &&
    (filter.test === undefined || event.test === filter.test)
  );
}
