/**
 * Leads and where they came from: every lead of an account in a time range (lead-rule.ts),
 * each with its shopper's journey summed up: how many devices, the first and last visit, and
 * the first-touch and last-touch referrer and UTM campaign among the visits that began before
 * the lead. A lead with no visit before it is unmatched, and says why (UnmatchedReason).
 */
import type { JourneyLimits } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { SERVER_EVENTS } from "../events/links.ts";
import { findJourneyPaced, type Journey, type JourneyReader } from "./journey.ts";
import type { IsLead } from "./lead-rule.ts";
import type { ClickIds, Utm, Visit } from "./visits.ts";
import type { ScanBudget } from "../store/scan-budget.ts";

export interface Touch {
  visitId: string;
  start: string;
  landingPage: string | null;
  referrer: string | null;
  utm: Utm;
  clickIds: ClickIds;
  /** The visit came from the site itself (Visit.internal): a touch only when no other is. */
  internal: boolean;
}

/**
 * Why a lead has no visit before it: `never_seen`, nothing else carries its identifiers;
 * `only_shared`, what it shares with other events was not followed (shared, a placeholder, a
 * bound: the journey's `why` says which); `no_visits`, it joined only events outside any visit
 * (other calls and leads); `visits_after_lead`, its shopper's visits all began after it;
 * `outside_lookback`, its shopper's visits before it all began more than
 * `attribution.lookbackDays` before it.
 */
export type UnmatchedReason =
  | "never_seen"
  | "only_shared"
  | "no_visits"
  | "visits_after_lead"
  | "outside_lookback";

export interface LeadSummary {
  lead: TrackedEvent;
  /** A visit began before the lead, within the lookback: it has a first and last touch. */
  matched: boolean;
  /** Why not, when not matched; null when matched. */
  unmatchedReason: UnmatchedReason | null;
  devices: number;
  /** Visits that began before the lead, within the lookback. */
  visitsBefore: number;
  firstVisitAt: string | null;
  lastVisitAt: string | null;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
  /** The journey hit a bound (journey.ts): the summary may miss visits. */
  truncated: boolean;
}

export interface LeadPage {
  accountId: string;
  from: string;
  to: string;
  /** What from and to are about: when the leads arrived, or when they happened. */
  by: "received" | "occurred";
  leads: LeadSummary[];
  /** Pass as `after` for the next page, or null when this page reached `to`. */
  next: string | null;
}

/** Link index entries read in one range read. */
const READ_BATCH = 50;

const touch = (v: Visit): Touch => ({
  visitId: v.visitId,
  start: v.start,
  landingPage: v.landingPage,
  referrer: v.referrer,
  utm: v.utm,
  clickIds: v.clickIds,
  internal: v.internal,
});

/** The start of the lookback before a lead: visits that began earlier do not count toward it. */
const lookbackStart = (lead: TrackedEvent, lookbackMs: number) =>
  new Date(Date.parse(lead.occurredAt) - lookbackMs).toISOString();

/** The visits that began before a lead, at most `lookbackMs` before it, oldest first. */
function visitsBefore(lead: TrackedEvent, journey: Journey, since: string): Visit[] {
  return journey.visits.filter((v) => v.start <= lead.occurredAt && v.start >= since);
}

/** Of the visits before a lead, its arrivals: those not from the site itself (Visit.internal), if any. */
const arrivals = (before: Visit[]) =>
  before.some((v) => !v.internal) ? before.filter((v) => !v.internal) : before;

/** A lead's touches: its arrivals among the visits that began within the lookback before it. */
export function touchesOf(lead: TrackedEvent, journey: Journey, lookbackMs: number): Visit[] {
  return arrivals(visitsBefore(lead, journey, lookbackStart(lead, lookbackMs)));
}

/** Sums up the journey behind one lead; visits count if they began at most `lookbackMs` before it. */
export function summarizeLead(
  lead: TrackedEvent,
  journey: Journey,
  lookbackMs: number,
): LeadSummary {
  const since = lookbackStart(lead, lookbackMs);
  const before = visitsBefore(lead, journey, since);
  const touches = arrivals(before);
  return {
    lead,
    matched: before.length > 0,
    unmatchedReason: before.length > 0 ? null : unmatchedReason(journey, since),
    devices: journey.deviceIds.length,
    visitsBefore: before.length,
    firstVisitAt: journey.visits[0]?.start ?? null,
    lastVisitAt: journey.visits.at(-1)?.start ?? null,
    firstTouch: touches.length > 0 ? touch(touches[0]!) : null,
    lastTouch: touches.length > 0 ? touch(touches.at(-1)!) : null,
    truncated: journey.truncated,
  };
}

function unmatchedReason(journey: Journey, since: string): UnmatchedReason {
  if (journey.visits.some((v) => v.start < since)) return "outside_lookback";
  if (journey.visits.length > 0) return "visits_after_lead";
  if (journey.events.length + journey.remembered.length > 1) return "no_visits";
  return journey.why.some((step) => !step.followed) ? "only_shared" : "never_seen";
}

/**
 * The leads of an account whose event IDs fall in [fromKey, toKey) (time keys: event IDs are
 * time-ordered), oldest first, at most `limit`, after the event ID `after` if given. Reads only
 * the account's server-side events, through their link index entry. Thousands of journeys
 * take seconds, and ingest must not wait for them: the scan is paced by `budget` (it yields
 * every few milliseconds, and throws ScanStopped when its client goes or its time is up).
 */
export async function listLeads<T>(
  reader: JourneyReader,
  query: {
    accountId: string;
    fromKey: string;
    toKey: string;
    /** Only leads that happened in [from, to) (ISO times), whenever they arrived. */
    occurred?: { from: string; to: string };
    after?: string;
    limit: number;
    /** Only the leads this keeps. */
    only?: (lead: TrackedEvent) => boolean;
  },
  limits: JourneyLimits,
  isLead: IsLead,
  budget: ScanBudget,
  summarize: (lead: TrackedEvent, journey: Journey) => T,
  /** A lead's summary known without its journey (kept from before), or undefined to walk it. */
  known: (lead: TrackedEvent) => T | undefined = () => undefined,
): Promise<{ leads: T[]; next: string | null }> {
  const leads: T[] = [];
  let last = "";
  const from = query.after && query.after > query.fromKey ? query.after : query.fromKey;
  // Read in batches, each starting where the last ended, so that no read spans a yield.
  for (let after = from, more = true; more; ) {
    more = false;
    const batch = [
      ...reader.links.entries(query.accountId, SERVER_EVENTS, "", {
        from: after,
        below: query.toKey,
        limit: READ_BATCH,
      }),
    ];
    for (const { eventId } of batch) {
      after = eventId;
      more = true;
      const event = reader.get(eventId);
      if (!event || !isLead(event)) continue;
      const at = event.occurredAt;
      if (query.occurred && (at < query.occurred.from || at >= query.occurred.to)) continue;
      if (query.only && !query.only(event)) continue;
      if (leads.length === query.limit) return { leads, next: last };
      const kept = known(event);
      if (kept !== undefined) {
        leads.push(kept);
        last = event.eventId;
        continue;
      }
      const journey = await findJourneyPaced(
        reader,
        event.accountId,
        { eventId: event.eventId },
        limits,
        isLead,
        () => budget.pace(),
      );
      leads.push(summarize(event, journey!));
      last = event.eventId;
      await budget.pace();
    }
    await budget.pace(); // a batch of events that were not leads (or not in the range) too
  }
  return { leads, next: null };
}
