/**
 * What an erasure request reaches: everything linked to the identifiers given (an e-mail or
 * phone as its hash, a user ID, a device ID, an instance ID), in one account or every one. Each
 * identifier is followed as a journey is (journey.ts, within its bounds: a shared identifier is
 * not followed, so strangers are never erased with the shopper), and what the journey holds is
 * what goes: its stored events, the long memory's traces of its visits and remembered events,
 * and every device and identifier it reached (to suppress).
 *
 * `eraseShopper` adds the stored events with a field equal to one of the identifiers (a bot's
 * event links to nothing; a vendor may put an e-mail among its properties), then counts what
 * the plan reaches (a dry run) or carries it out, in one
 * transaction: the events and traces, their customers, lead deliveries, dead letters, the
 * reject log's records and the access log's mentions of the identifiers; the identifiers
 * suppressed (store/suppressions.ts); an erasure record per account for every sink; and an
 * audit entry (store/erasures.ts).
 */
import { setImmediate } from "node:timers";
import type { JourneyLimits } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { uuidv7 } from "../events/ids.ts";
import { carriedIdentifiers, type LinkKind, visitOf } from "../events/links.ts";
import type { ErasureAudit, ErasureCounts } from "../store/erasures.ts";
import type { Store } from "../store/open-store.ts";
import { EVERY_ACCOUNT } from "../store/suppressions.ts";
import { findJourney, type JourneyReader } from "./journey.ts";
import type { IsLead } from "./lead-rule.ts";

export interface Identifier {
  kind: LinkKind;
  value: string;
}

export interface ErasurePlan {
  /** Stored events to delete, by account. */
  events: TrackedEvent[];
  /** The long memory's traces to forget: "v" + visit ID or "e" + event ID, by account. */
  traces: { accountId: string; id: string }[];
  /** Every identifier reached (the ones asked for among them), to suppress. */
  identifiers: (Identifier & { accountId: string })[];
  /** True if a journey's bound stopped the search: the request reached more than was followed. */
  truncated: boolean;
}

/**
 * The plan for erasing `identifiers` in `accountIds`. Reads only: a dry run answers its counts;
 * the erasure deletes what it lists.
 */
export async function planErasure(
  reader: JourneyReader,
  accountIds: string[],
  identifiers: Identifier[],
  limits: JourneyLimits,
  isLead: IsLead,
): Promise<ErasurePlan> {
  const events = new Map<string, TrackedEvent>();
  const traces = new Map<string, { accountId: string; id: string }>();
  const reached = new Map<string, Identifier & { accountId: string }>();
  let truncated = false;
  const note = (accountId: string, kind: LinkKind, value: string) =>
    reached.set(`${accountId}\u0000${kind}\u0000${value}`, { accountId, kind, value });
  for (const accountId of accountIds)
    for (const { kind, value } of identifiers) {
      // One journey at a time, the event loop free between them: every account times every
      // identifier can be many journeys, and events keep arriving meanwhile.
      await new Promise((r) => setImmediate(r));
      note(accountId, kind, value);
      // The identifier's own traces in the long memory, whether or not an event still carries it.
      for (const entry of reader.memory.entries(
        accountId,
        kind,
        value,
        limits.maxEventsPerIdentifier,
      ))
        traces.set(`${accountId}\u0000${entry.id}`, { accountId, id: entry.id });
      const first = reader.links.entries(accountId, kind, value, { limit: 1 }).next();
      if (first.done) continue;
      const journey = findJourney(
        reader,
        accountId,
        { eventId: first.value.eventId },
        limits,
        isLead,
      );
      if (!journey) continue;
      truncated ||= journey.truncated;
      for (const event of journey.events) events.set(event.eventId, event);
      for (const visit of journey.visits)
        if (visit.summarized > 0)
          traces.set(`${accountId}\u0000v${visit.visitId}`, { accountId, id: `v${visit.visitId}` });
      for (const remembered of journey.remembered)
        traces.set(`${accountId}\u0000e${remembered.eventId}`, {
          accountId,
          id: `e${remembered.eventId}`,
        });
      for (const step of journey.why) if (step.followed) note(accountId, step.kind, step.value);
      for (const remembered of journey.remembered)
        for (const [kind, value] of pairs(reader.memory.trace(accountId, `e${remembered.eventId}`)))
          note(accountId, kind, value);
      for (const device of journey.deviceIds) note(accountId, "device", device);
    }
  return {
    events: [...events.values()],
    traces: [...traces.values()],
    identifiers: [...reached.values()],
    truncated,
  };
}

/** The identifiers an event carries, as (kind, value) pairs (whether or not it links by them). */
function identifiersOf(event: TrackedEvent): [LinkKind, string][] {
  return [
    ["instance", event.instanceId],
    ...carriedIdentifiers(event).map((i): [LinkKind, string] => [i.kind, i.value]),
  ];
}

/** A trace's links as (kind, value) pairs. */
function pairs(trace: { links: string[] } | undefined): [LinkKind, string][] {
  const out: [LinkKind, string][] = [];
  for (let i = 0; trace && i < trace.links.length; i += 2)
    if (trace.links[i] !== "server") out.push([trace.links[i] as LinkKind, trace.links[i + 1]!]);
  return out;
}

export interface ErasureRequest {
  /** The accounts asked for; null: every account (suppressed for accounts made later too). */
  accounts: string[] | null;
  /** The accounts to search: those asked for, or every account trackd knows. */
  searched: string[];
  identifiers: Identifier[];
  /**
   * Every text the identifiers were given as (a cleartext e-mail and phone among them), lower
   * case: the reject log's samples and the access log's targets are searched for them.
   */
  mentions: string[];
  dryRun: boolean;
  by: { id: string; name: string };
}

export interface ErasureResult {
  /** The operation's ID (null for a dry run). */
  operationId: string | null;
  dryRun: boolean;
  accounts: string[] | null;
  counts: ErasureCounts;
  /** Identifiers suppressed (or, dry, that would be). */
  suppressed: number;
  truncated: boolean;
  /** The erasure records stored for sinks, by event ID. */
  records: string[];
}

/** The logs' free text is searched only for mentions this long: a short one would match strangers. */
const MIN_MENTION = 8;

/**
 * Counts what erasing `request.identifiers` reaches, and unless `request.dryRun` erases it
 * (see the top of this file). Resolves once the erasure is committed.
 */
export async function eraseShopper(
  store: Store,
  reader: JourneyReader,
  request: ErasureRequest,
  limits: JourneyLimits,
  isLead: IsLead,
  now: number,
): Promise<ErasureResult> {
  const plan = await planErasure(reader, request.searched, request.identifiers, limits, isLead);
  const mentions = [
    ...new Set([...request.mentions, ...plan.identifiers.map((i) => i.value.toLowerCase())]),
  ].filter((m) => m.length >= MIN_MENTION);
  // Beyond the links: stored events with a field equal to one of them (a bot's, say).
  const eventIds = new Set(plan.events.map((e) => e.eventId));
  for (const event of await store.events.mentioning(new Set(request.searched), mentions)) {
    if (eventIds.has(event.eventId)) continue;
    eventIds.add(event.eventId);
    plan.events.push(event);
    for (const [kind, value] of identifiersOf(event))
      plan.identifiers.push({ accountId: event.accountId, kind, value });
  }
  const traces = plan.traces
    .map((t) => store.events.memory.trace(t.accountId, t.id))
    .filter((t) => t !== undefined);
  const visits = new Set<string>();
  for (const event of plan.events) {
    const visit = visitOf(event);
    if (visit !== null) visits.add(`${event.accountId}\u0000${visit}`);
  }
  for (const t of traces) if (t.visitId !== null) visits.add(`${t.accountId}\u0000${t.visitId}`);
  const count = (remove: boolean): ErasureCounts => ({
    events: plan.events.length,
    links:
      plan.events.reduce((n, e) => n + store.events.links.countOf(e), 0) +
      traces.reduce((n, t) => n + t.links.length / 2, 0),
    visits: visits.size,
    customers: plan.events.filter((e) => store.contacts.database.doesExist(e.eventId)).length,
    leadDeliveries: plan.events.reduce(
      (n, e) => n + store.leadDeliveries.forget(e.eventId, remove),
      0,
    ),
    deadLetters: store.delivery.forgetEvents(eventIds, remove),
    rejects: mentions.length > 0 ? store.rejects.forgetMentions(mentions, remove) : 0,
    accessLogEntries: mentions.length > 0 ? store.accessLog.redact(mentions, remove) : 0,
  });
  const suppressions = plan.identifiers.map((i) => ({
    ...i,
    accountId: request.accounts === null ? EVERY_ACCOUNT : i.accountId,
  }));
  const answer = {
    dryRun: request.dryRun,
    accounts: request.accounts,
    suppressed: new Set(suppressions.map((s) => `${s.accountId}\u0000${s.kind}\u0000${s.value}`))
      .size,
    truncated: plan.truncated,
  };
  if (request.dryRun) return { ...answer, operationId: null, counts: count(false), records: [] };

  const operationId = uuidv7(now);
  const records = erasureRecords(store, plan, operationId, now);
  let counts = null as ErasureCounts | null; // counted in the erasure's transaction
  const audit: Omit<ErasureAudit, "counts"> = {
    operationId,
    at: new Date(now).toISOString(),
    by: request.by,
    accounts: request.accounts,
    kinds: [...new Set(request.identifiers.map((i) => i.kind))].sort(),
    suppressed: answer.suppressed,
    truncated: plan.truncated,
    records: records.map((r) => r.eventId),
  };
  let added: string[] = [];
  try {
    await store.events.erase(plan, records, () => {
      counts = count(true);
      for (const event of plan.events) store.contacts.database.remove(event.eventId);
      added = store.suppressions.add(suppressions, { at: audit.at, operationId });
      store.erasures.add({ ...audit, counts });
    });
  } catch (err) {
    store.suppressions.withdraw(added); // nothing was erased: nor is anything suppressed
    throw err;
  }
  return { ...answer, operationId, counts: counts!, records: audit.records };
}

/**
 * One erasure record per account with events erased, stored like an event so that every sink
 * gets it in order, after anything it was sent of the shopper: the erased events' IDs (never
 * the identifiers), for downstream systems to delete theirs.
 */
function erasureRecords(
  store: Store,
  plan: ErasurePlan,
  operationId: string,
  now: number,
): TrackedEvent[] {
  const byAccount = new Map<string, string[]>();
  const add = (accountId: string, eventId: string) => {
    const list = byAccount.get(accountId) ?? [];
    list.push(eventId);
    byAccount.set(accountId, list);
  };
  for (const event of plan.events) add(event.accountId, event.eventId);
  for (const trace of plan.traces)
    if (trace.id.startsWith("e")) add(trace.accountId, trace.id.slice(1));
  const at = new Date(now).toISOString();
  return [...byAccount].map(([accountId, eventIds]) => ({
    eventId: store.events.nextEventId(now),
    receivedAt: at,
    occurredAt: at,
    accountId,
    trackerId: ERASURE_TRACKER,
    action: "erase",
    actionType: "custom",
    object: "shopper",
    vendor: "trackd",
    product: "trackd",
    instanceId: operationId,
    properties: { erasure: { operationId, eventIds: eventIds.sort() } },
    context: { ip: null, userAgent: null, origin: null, referer: null, source: "trackd" },
    test: false,
    registry: { account: false, tracker: false, vendor: false },
  }));
}

/** The tracker ID erasure records carry (no tracker sends it: trackd writes them itself). */
export const ERASURE_TRACKER = "trackd";
