/**
 * The long memory of visits. Retention deletes raw events once every sink has them and the
 * retention window has passed, but a car shopper calls weeks after the visit that brought
 * them. So, in the transaction that deletes them, what a journey needs of those events is
 * kept as traces: one per visit (where it came from, when, its pages and vehicles, and every
 * identifier its events carried), or one per event outside any visit that carries an
 * identifier besides its instance ID (a vendor's call or lead with a phone: what it was and
 * its identifiers, through which a later lead may reach a visit). Journeys and leads read traces beside the stored
 * events (journey.ts), until `attribution.lookbackDays` after the visit began.
 *
 * One LMDB database, three kinds of tuple key (tuple-key.ts):
 *   ["trace", account, id]                 -> the trace's JSON
 *   ["link", account, kind, value, id]     -> [id, the trace's shopper key] (as JSON)
 *   ["start", start, account, id]          -> [account, id] (as JSON; expiry, oldest first)
 * A trace's ID is "v" and the visit ID, or "e" and the event ID.
 */
import type { Database } from "lmdb";
import type { TrackedEvent } from "../events/event.model.ts";
import { isPageView, landingOf, cookiesInto, vehicleOf, type Landing } from "../events/landing.ts";
import { linksOf, SERVER_EVENTS, shopperKeyOf, visitOf, deviceOf } from "../events/links.ts";
import { tupleKey, tupleRange } from "./tuple-key.ts";

/** What is left of an event outside any visit once it is deleted. */
export interface RememberedEvent {
  eventId: string;
  occurredAt: string;
  action: string;
  object: string;
  vendor: string;
  product: string;
  instanceId: string;
  label?: string;
  source: string;
}

export interface Trace {
  /** "v" + visit ID, or "e" + event ID. */
  id: string;
  accountId: string;
  visitId: string | null;
  deviceId: string | null;
  /** The shopper key of its first event (events/links.ts). */
  shopper: string;
  /** occurredAt of its first and last event. */
  start: string;
  end: string;
  /** Events it sums up. */
  events: number;
  pageViews: number;
  /** Vehicles viewed (events/landing.ts vehicleOf), first ones first, at most MAX_VEHICLES. */
  vehicles: string[];
  /** Where the visit came from; null for an event outside any visit. */
  landing: Landing | null;
  /** Every (kind, value) its events were linked by, flat, once each. */
  links: string[];
  /** For an event outside any visit: what it was. */
  event: RememberedEvent | null;
}

export interface TraceEntry {
  id: string;
  shopper: string;
}

const MAX_VEHICLES = 20;

const traceKey = (accountId: string, id: string) => tupleKey(["trace", accountId, id]);
const linkParts = (accountId: string, kind: string, value: string) => [
  "link",
  accountId,
  kind,
  value,
];
const startKey = (t: Trace) => tupleKey(["start", t.start, t.accountId, t.id]);

function traceIdOf(event: TrackedEvent): string {
  const visitId = visitOf(event);
  return visitId === null ? `e${event.eventId}` : `v${visitId}`;
}

function newTrace(event: TrackedEvent, id: string): Trace {
  const inVisit = id.startsWith("v");
  return {
    id,
    accountId: event.accountId,
    visitId: inVisit ? id.slice(1) : null,
    deviceId: deviceOf(event) || null,
    shopper: shopperKeyOf(event),
    start: event.occurredAt,
    end: event.occurredAt,
    events: 0,
    pageViews: 0,
    vehicles: [],
    landing: inVisit ? landingOf(event) : null,
    links: [],
    event: inVisit
      ? null
      : {
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          action: event.action,
          object: event.object,
          vendor: event.vendor,
          product: event.product,
          instanceId: event.instanceId,
          ...(event.label === undefined ? {} : { label: event.label }),
          source: event.context.source,
        },
  };
}

/** Adds one more event (in arrival order) to a trace. */
function addTo(trace: Trace, event: TrackedEvent): void {
  trace.events++;
  if (event.occurredAt < trace.start) trace.start = event.occurredAt;
  if (event.occurredAt > trace.end) trace.end = event.occurredAt;
  if (isPageView(event)) trace.pageViews++;
  const vehicle = vehicleOf(event);
  if (vehicle !== null && trace.vehicles.length < MAX_VEHICLES && !trace.vehicles.includes(vehicle))
    trace.vehicles.push(vehicle);
  if (trace.landing) cookiesInto(trace.landing.clickIds, event);
  if (trace.deviceId === null) trace.deviceId = deviceOf(event) || null;
  const links = linksOf(event);
  for (let i = 0; i < links.length; i += 2) {
    if (links[i] === SERVER_EVENTS) continue;
    if (!hasLink(trace.links, links[i]!, links[i + 1]!)) trace.links.push(links[i]!, links[i + 1]!);
  }
}

/**
 * True if an event carries an identifier besides its instance ID. One outside a visit that
 * carries none links nothing a later event could not reach by that instance ID alone, so it
 * is not remembered (vendors' events are most of them: the memory stays about visits).
 */
function linksBeyondInstance(event: TrackedEvent): boolean {
  const links = linksOf(event);
  for (let i = 2; i < links.length; i += 2) if (links[i] !== SERVER_EVENTS) return true;
  return false;
}

function hasLink(flat: string[], kind: string, value: string): boolean {
  for (let i = 0; i < flat.length; i += 2)
    if (flat[i] === kind && flat[i + 1] === value) return true;
  return false;
}

export class VisitMemory {
  constructor(private readonly db: Database<string, Uint8Array>) {}

  get database(): Database<unknown, Uint8Array> {
    return this.db as Database<unknown, Uint8Array>;
  }

  /**
   * Sums `events` (being deleted, oldest first) into their traces and queues the writes; call
   * inside the batch that deletes them, so that an event is either stored or remembered.
   * Events that began before `sinceIso` (past the lookback) are not kept.
   */
  remember(events: TrackedEvent[], sinceIso: string): void {
    /** Each trace changed, with the start it was stored under (null: new). */
    const changed = new Map<string, { trace: Trace; stored: string | null }>();
    for (const event of events) {
      if (event.occurredAt < sinceIso) continue;
      const id = traceIdOf(event);
      if (id.startsWith("e") && !linksBeyondInstance(event)) continue;
      const key = `${event.accountId}\u0000${id}`;
      let entry = changed.get(key);
      if (!entry) {
        const stored = this.trace(event.accountId, id);
        entry = { trace: stored ?? newTrace(event, id), stored: stored?.start ?? null };
        changed.set(key, entry);
      }
      addTo(entry.trace, event);
    }
    for (const { trace, stored } of changed.values()) {
      if (stored !== null && stored !== trace.start)
        this.db.remove(startKey({ ...trace, start: stored }));
      this.put(trace);
    }
  }

  private put(trace: Trace): void {
    this.db.put(traceKey(trace.accountId, trace.id), JSON.stringify(trace));
    this.db.put(startKey(trace), JSON.stringify([trace.accountId, trace.id]));
    for (let i = 0; i < trace.links.length; i += 2)
      this.db.put(
        tupleKey([...linkParts(trace.accountId, trace.links[i]!, trace.links[i + 1]!), trace.id]),
        JSON.stringify([trace.id, trace.shopper]),
      );
  }

  /** A trace by its ID, or undefined. */
  trace(accountId: string, id: string): Trace | undefined {
    const json = this.db.get(traceKey(accountId, id));
    return json === undefined ? undefined : (JSON.parse(json) as Trace);
  }

  /** The traces linked by (account, kind, value), at most `limit`. */
  *entries(accountId: string, kind: string, value: string, limit: number): Generator<TraceEntry> {
    const parts = linkParts(accountId, kind, value);
    for (const { value } of this.db.getRange({ ...tupleRange(parts), limit })) {
      const [id, shopper] = JSON.parse(value) as [string, string];
      yield { id, shopper };
    }
  }

  /**
   * Forgets up to `limit` traces that began before `beforeIso` (past the lookback), with their
   * links. Resolves with how many went, once committed.
   */
  async expire(beforeIso: string, limit: number): Promise<number> {
    const range = tupleRange(["start"]);
    const gone: Trace[] = [];
    const keys: Uint8Array[] = [];
    for (const { key, value } of this.db.getRange({
      start: range.start,
      end: tupleKey(["start", beforeIso]),
      limit,
    })) {
      keys.push(key);
      const [accountId, id] = JSON.parse(value) as [string, string];
      const trace = this.trace(accountId, id);
      if (trace) gone.push(trace);
    }
    if (keys.length === 0) return 0;
    await this.db.batch(() => {
      for (const key of keys) this.db.remove(key);
      for (const t of gone) {
        this.db.remove(traceKey(t.accountId, t.id));
        for (let i = 0; i < t.links.length; i += 2)
          this.db.remove(tupleKey([...linkParts(t.accountId, t.links[i]!, t.links[i + 1]!), t.id]));
      }
    });
    return keys.length;
  }

  /**
   * Forgets traces (an erasure): each with its links and its expiry entry. Queues the removals;
   * call inside the batch that deletes the shopper's events. Returns how many were kept.
   */
  forget(traces: { accountId: string; id: string }[]): number {
    let n = 0;
    for (const { accountId, id } of traces) {
      const t = this.trace(accountId, id);
      if (!t) continue;
      n++;
      this.db.remove(startKey(t));
      this.db.remove(traceKey(accountId, id));
      for (let i = 0; i < t.links.length; i += 2)
        this.db.remove(tupleKey([...linkParts(accountId, t.links[i]!, t.links[i + 1]!), id]));
    }
    return n;
  }

  /** How many traces are kept. */
  count(): number {
    return this.db.getCount(tupleRange(["trace"]));
  }

  /** Traces and bytes of JSON kept (the bench's bytes per visit). */
  size(): { traces: number; visits: number; jsonBytes: number } {
    let traces = 0;
    let visits = 0;
    let jsonBytes = 0;
    for (const { value } of this.db.getRange(tupleRange(["trace"]))) {
      traces++;
      jsonBytes += value.length;
      if (value.includes('"visitId":"')) visits++;
    }
    return { traces, visits, jsonBytes };
  }
}
