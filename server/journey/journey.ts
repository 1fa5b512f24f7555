/**
 * The shopper behind an event, computed when asked. Starting from an event (or an instance
 * ID), trackd follows the links its events carry, through the link index: the instance ID,
 * the Web SDK's device ID, a user ID, hashed email and phone. Each identifier found leads to
 * the other events of the same account that carry it, and so on, within bounds: an identifier
 * that spans more shoppers than `maxDevicesPerIdentifier` (devices, or the user, email or phone
 * of events that have no device) is shared (a dealership's test email, a showroom tablet, one
 * instance ID for every phone call) and is reported, not followed. Every link says how it was reached, so a
 * wrong join can be traced and fixed by changing the rule; stored events are never rewritten.
 */
import type { JourneyLimits } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { deviceInKey, linksOf, SERVER_EVENTS, type LinkKind } from "../events/links.ts";
import { walkPaced, walkToEnd, type Walk } from "../store/scan-budget.ts";
import type { LinkIndex } from "../store/link-index.ts";
import type { RememberedEvent, Trace, VisitMemory } from "../store/visit-memory.ts";
import type { IsLead } from "./lead-rule.ts";
import { isJunkIdentifier, type IsJunk } from "./junk-identifiers.ts";
import { byOccurrence, groupVisits, type Visit } from "./visits.ts";

/**
 * What the journey reads: stored events and the link index, and the long memory of what
 * retention deleted (visit-memory.ts), whose traces it follows as it follows events.
 */
export interface JourneyReader {
  get(eventId: string): TrackedEvent | undefined;
  links: Pick<LinkIndex, "entries">;
  memory: Pick<VisitMemory, "entries" | "trace">;
  /** An account's placeholder identifiers beside the built-in ones (junk-identifiers.ts junkOf). */
  junk?: (accountId: string) => IsJunk;
}

export type JourneySeed = { eventId: string } | { instanceId: string };

/** How one identifier was reached, and whether it was followed. */
export interface LinkStep {
  kind: LinkKind;
  value: string;
  /**
   * The event that carried it, and the identifier that event was reached by (null: the seed
   * itself). From the long memory: `visitId` is the remembered visit that carried it (its
   * eventId is then ""), or eventId a remembered event outside any visit.
   */
  via: { eventId: string; visitId?: string; kind: LinkKind | "event"; value: string } | null;
  /**
   * Events found under it (a device's repeated user, email and phone count once a day: see
   * link-index.ts), and the distinct shoppers among them (devices, or the user, email or phone
   * of events without one). Counting stops once the identifier is known to be shared.
   */
  events: number;
  shoppers: number;
  followed: boolean;
  /**
   * Why it was not followed: `junk`, a placeholder value (junk-identifiers.ts);
   * `conflicting_identity`, a device reached through a user, email or phone whose events carry
   * another user ID or email than the journey's (a showroom tablet, a family computer).
   */
  reason?: "shared" | "too_many_events" | "too_many_devices" | "junk" | "conflicting_identity";
}

export interface Journey {
  accountId: string;
  seed: JourneySeed;
  deviceIds: string[];
  identifiers: { kind: LinkKind; value: string }[];
  visits: Visit[];
  /** Every matched event still stored, oldest first. */
  events: TrackedEvent[];
  /**
   * Matched events outside any visit that retention deleted: what the long memory kept of
   * them, oldest first. (Deleted events of visits are summed up in their Visit.)
   */
  remembered: RememberedEvent[];
  /** The leads among them (lead-rule.ts), oldest first. */
  leads: TrackedEvent[];
  /** True if a bound stopped the search: some identifier was not followed or events were left out. */
  truncated: boolean;
  why: LinkStep[];
}

interface Pending {
  kind: LinkKind;
  value: string;
  via: LinkStep["via"];
}

/** Link entries or events read between two points where a walk may pause. */
const PACE_EVERY = 100;

/** The journey behind `seed` in `accountId`, or null if the seed event is not in that account. */
export function findJourney(
  reader: JourneyReader,
  accountId: string,
  seed: JourneySeed,
  limits: JourneyLimits,
  isLead: IsLead,
): Journey | null {
  return walkToEnd(walkJourney(reader, accountId, seed, limits, isLead));
}

/**
 * findJourney paced by `pace` between units of work (a shared identifier can mean a thousand
 * events to read): an admin scan awaits its ScanBudget there, so events are answered meanwhile.
 */
export async function findJourneyPaced(
  reader: JourneyReader,
  accountId: string,
  seed: JourneySeed,
  limits: JourneyLimits,
  isLead: IsLead,
  pace: () => Promise<void>,
): Promise<Journey | null> {
  return walkPaced(walkJourney(reader, accountId, seed, limits, isLead), pace);
}

/** The journey's walk: it yields every PACE_EVERY index entries or events read. */
function* walkJourney(
  reader: JourneyReader,
  accountId: string,
  seed: JourneySeed,
  limits: JourneyLimits,
  isLead: IsLead,
): Walk<Journey | null> {
  const events = new Map<string, TrackedEvent>();
  const traces = new Map<string, Trace>();
  const devices = new Set<string>();
  const seen = new Set<string>();
  const queue: Pending[] = [];
  const why: LinkStep[] = [];
  /** The distinct user IDs and emails of the events added so far (oneIdentityPerDevice). */
  const identities = { user: new Set<string>(), email: new Set<string>() };
  let truncated = false;
  const isJunk = reader.junk?.(accountId) ?? isJunkIdentifier;

  const enqueue = (kind: LinkKind, value: string, via: Pending["via"]) => {
    const key = `${kind}\u0000${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    queue.push({ kind, value, via });
  };
  /** Queues the identifiers of an event or a trace (flat pairs); `via` says what carried them. */
  const enqueueAll = (pairs: string[], via: NonNullable<Pending["via"]>) => {
    for (let i = 0; i < pairs.length; i += 2) {
      const kind = pairs[i]!;
      const value = pairs[i + 1]!;
      if (kind === SERVER_EVENTS) continue;
      if ((kind === "user" || kind === "email") && !isJunk(kind, value))
        identities[kind].add(value);
      if (kind === "device") devices.add(value);
      enqueue(kind as LinkKind, value, via);
    }
  };
  const full = () => {
    if (events.size + traces.size < limits.maxEvents) return false;
    truncated = true;
    return true;
  };
  /** Adds an event and queues the identifiers it carries; `by` is how it was reached. */
  const add = (event: TrackedEvent, by: { kind: LinkKind | "event"; value: string }) => {
    if (events.has(event.eventId) || full()) return;
    events.set(event.eventId, event);
    enqueueAll(linksOf(event), { eventId: event.eventId, kind: by.kind, value: by.value });
  };
  /** Adds a trace of the long memory, as add() does an event. */
  const addTrace = (trace: Trace, by: Pending) => {
    if (traces.has(trace.id) || full()) return;
    traces.set(trace.id, trace);
    enqueueAll(trace.links, {
      eventId: trace.event?.eventId ?? "",
      ...(trace.visitId === null ? {} : { visitId: trace.visitId }),
      kind: by.kind,
      value: by.value,
    });
  };

  if ("eventId" in seed) {
    const event = reader.get(seed.eventId);
    if (!event || event.accountId !== accountId) return null;
    add(event, { kind: "event", value: event.eventId });
  } else enqueue("instance", seed.instanceId, null);

  for (let next = queue.shift(); next; next = queue.shift()) {
    if (isJunk(next.kind, next.value)) {
      why.push(notFollowed(next, "junk"));
      continue;
    }
    const found = yield* follow(reader, accountId, next, devices, limits);
    if (found.step.followed && conflicts(next, found, identities, limits, isJunk)) {
      why.push(notFollowed(next, "conflicting_identity", found.step));
      truncated = true;
      continue;
    }
    why.push(found.step);
    if (!found.step.followed) {
      truncated = true;
      continue;
    }
    if (found.cut) truncated = true;
    for (const event of found.events) add(event, next);
    for (const trace of found.traces) addTrace(trace, next);
  }

  const all = [...events.values()].sort(byOccurrence);
  const kept = [...traces.values()];
  const identifiers: Journey["identifiers"] = [];
  for (const { kind, value } of why) if (kind !== "device") identifiers.push({ kind, value });
  const deviceIds = new Set<string>();
  for (const t of kept) if (t.deviceId !== null) deviceIds.add(t.deviceId);
  for (const e of all) {
    const device = e.properties.deviceId;
    if (typeof device === "string" && device !== "") deviceIds.add(device);
  }
  return {
    accountId,
    seed,
    deviceIds: [...deviceIds],
    identifiers,
    visits: groupVisits(all, kept),
    events: all,
    remembered: kept
      .flatMap((t) => (t.event ? [t.event] : []))
      .sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0)),
    leads: all.filter(isLead),
    truncated,
    why,
  };
}

/** The step of an identifier that is not followed, with what was counted of it, if anything. */
function notFollowed(
  link: Pending,
  reason: NonNullable<LinkStep["reason"]>,
  counted?: LinkStep,
): LinkStep {
  return {
    kind: link.kind,
    value: link.value,
    via: link.via,
    events: counted?.events ?? 0,
    shoppers: counted?.shoppers ?? 0,
    followed: false,
    reason,
  };
}

/**
 * True if following a device would bring a second user ID or email into the journey. Only for
 * a device found on an event reached through a user, email or phone: the seed's own device,
 * and one that shares the seed's instance ID, are the shopper's by the vendor's word.
 */
function conflicts(
  link: Pending,
  found: { events: TrackedEvent[]; traces: Trace[] },
  identities: { user: Set<string>; email: Set<string> },
  limits: JourneyLimits,
  isJunk: IsJunk,
): boolean {
  if (!limits.oneIdentityPerDevice || link.kind !== "device") return false;
  const through = link.via?.kind;
  if (through !== "user" && through !== "email" && through !== "phone") return false;
  const carries = (pairs: string[]) => {
    for (let i = 0; i < pairs.length; i += 2) {
      const kind = pairs[i];
      if (kind !== "user" && kind !== "email") continue;
      const known = identities[kind];
      const value = pairs[i + 1]!;
      if (known.size > 0 && !known.has(value) && !isJunk(kind, value)) return true;
    }
    return false;
  };
  return (
    found.events.some((e) => carries(linksOf(e))) || found.traces.some((t) => carries(t.links))
  );
}

/**
 * Reads one identifier's events, then its traces in the long memory (together within the
 * bound on events), and decides whether to follow it.
 */
function* follow(
  reader: JourneyReader,
  accountId: string,
  link: Pending,
  known: Set<string>,
  limits: JourneyLimits,
): Walk<{ step: LinkStep; events: TrackedEvent[]; traces: Trace[]; cut: boolean }> {
  const max = limits.maxEventsPerIdentifier;
  const eventIds: string[] = [];
  const traceIds: string[] = [];
  const shoppers = new Set<string>();
  let newDevices = 0;
  let shared = false;
  /** Counts one entry's shopper; false once the identifier is known to be shared. */
  const count = (shopper: string): boolean => {
    if (shopper === "" || shoppers.has(shopper)) return true;
    shoppers.add(shopper);
    // Known to be shared: reading the rest (up to a thousand entries) would change nothing.
    if (link.kind !== "device" && shoppers.size > limits.maxDevicesPerIdentifier) {
      shared = true;
      return false;
    }
    const device = deviceInKey(shopper);
    if (device !== null && !known.has(device)) newDevices++;
    return true;
  };
  for (const e of reader.links.entries(accountId, link.kind, link.value, { limit: max + 1 })) {
    eventIds.push(e.eventId);
    if (eventIds.length % PACE_EVERY === 0) yield;
    if (!count(e.shopper)) break;
  }
  if (!shared && eventIds.length <= max)
    for (const t of reader.memory.entries(
      accountId,
      link.kind,
      link.value,
      max + 1 - eventIds.length,
    )) {
      traceIds.push(t.id);
      if (traceIds.length % PACE_EVERY === 0) yield;
      if (!count(t.shopper)) break;
    }
  const read = eventIds.length + traceIds.length;
  const step: LinkStep = {
    kind: link.kind,
    value: link.value,
    via: link.via,
    events: read,
    shoppers: shoppers.size,
    followed: false,
  };
  const tooMany = read > max;
  // A device is one shopper by construction: it is never "shared", only cut at the event bound.
  if (shared) step.reason = "shared";
  else if (link.kind !== "device" && tooMany) step.reason = "too_many_events";
  else if (known.size + newDevices > limits.maxDevices) step.reason = "too_many_devices";
  if (step.reason) return { step, events: [], traces: [], cut: true };
  step.followed = true;
  const events: TrackedEvent[] = [];
  for (const eventId of eventIds.slice(0, max)) {
    const event = reader.get(eventId);
    if (event) events.push(event);
    if (events.length % PACE_EVERY === 0) yield;
  }
  const traces: Trace[] = [];
  for (const id of traceIds.slice(0, Math.max(0, max - eventIds.length))) {
    const trace = reader.memory.trace(accountId, id);
    if (trace) traces.push(trace);
    if (traces.length % PACE_EVERY === 0) yield;
  }
  return { step, events, traces, cut: tooMany };
}
