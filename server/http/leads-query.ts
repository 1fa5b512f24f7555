/**
 * A leads query, as the leads API, its downloads and attribution read it: the account, the
 * range [from, to) of when the leads arrived or happened, and the read of each lead with its
 * shopper's journey (journey/leads.ts), paced by the scan's budget.
 */
import { Type as t } from "@sinclair/typebox";
import type { AttributionConfig, JourneyLimits, LeadRule } from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { parsePathId } from "../events/ids.ts";
import type { Journey, JourneyReader } from "../journey/journey.ts";
import { leadRule, type IsLead } from "../journey/lead-rule.ts";
import { LeadTouches } from "../journey/lead-touches.ts";
import { listLeads } from "../journey/leads.ts";
import { isJunkIdentifier, junkOf, type IsJunk } from "../journey/junk-identifiers.ts";
import type { Registry } from "../registry/registry.ts";
import type { EventStore } from "../store/event-store.ts";
import { timeKey } from "../store/event-store.ts";
import type { ScanBudget } from "../store/scan-budget.ts";

/** The query parameters every leads query has. */
export const RangeFields = {
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  from: t.Optional(t.String({ maxLength: 64 })),
  to: t.Optional(t.String({ maxLength: 64 })),
  /** What from and to are about: when the lead arrived (default) or when it happened. */
  by: t.Optional(t.Union([t.Literal("received"), t.Literal("occurred")])),
};

export const LeadsQuery = t.Object({
  ...RangeFields,
  after: t.Optional(t.String({ maxLength: 64 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
});

/**
 * What journeys read: the store's events, link index and long memory, and each account's
 * placeholder identifiers from the registry (read as the account is now, so a value added on
 * the admin page applies to the next journey).
 */
export function journeyReader(events: EventStore, registry: Registry): JourneyReader {
  const checks = new WeakMap<readonly string[], IsJunk>();
  return {
    get: (eventId) => events.get(eventId),
    links: events.links,
    memory: events.memory,
    junk(accountId) {
      const values = registry.account(accountId)?.junkIdentifiers;
      if (!values) return isJunkIdentifier;
      const known = checks.get(values);
      if (known) return known;
      const check = junkOf(values);
      checks.set(values, check);
      return check;
    },
  };
}

/**
 * Each lead's touches kept for attribution (journey/lead-touches.ts), worked out in the
 * background as leads are stored, under the rules of `config` and each account's placeholders.
 */
export function leadTouchesOf(
  events: EventStore,
  reader: JourneyReader,
  registry: Registry,
  config: { journey: JourneyLimits; leads: LeadRule; attribution: AttributionConfig },
): LeadTouches {
  const touches = new LeadTouches({
    reader,
    journey: config.journey,
    isLead: leadRule(config.leads),
    lookbackMs: config.attribution.lookbackDays * DAY_MS,
    db: events.leadTouches,
    accountRules: (accountId) => JSON.stringify(registry.account(accountId)?.junkIdentifiers ?? []),
  });
  events.onEvent((event) => touches.stored(event));
  return touches;
}

export interface LeadsReadDeps {
  reader: JourneyReader;
  journey: JourneyLimits;
  isLead: IsLead;
  now: () => number;
}

export const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;

/** The times a leads query may name: from 1970 to the end of 9999 (event IDs hold no earlier time). */
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 date or date-time, or epoch milliseconds, from 1970 to 9999; null otherwise. */
function parseTime(value: string): number | null {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 && ms <= LATEST_MS ? ms : null;
}

export const badAccount = (raw: string) =>
  errorResponse("invalid_request", [
    {
      path: "accountId",
      code: "invalid_id",
      message: `accountId ${JSON.stringify(raw.slice(0, 64))} is not a positive integer or a UUID.`,
    },
  ]);

/** The time range of a leads query: [from, to), by default the 30 days up to `now` (included). */
export function leadsRange(
  q: { from?: string; to?: string },
  now: number,
): { from: number; to: number } | ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const to = q.to !== undefined ? parseTime(q.to) : now + 1;
  const from =
    q.from !== undefined
      ? parseTime(q.from)
      : to === null
        ? null
        : Math.max(0, to - DEFAULT_DAYS * DAY_MS);
  for (const [name, given, value] of [
    ["to", q.to, to],
    ["from", q.from, from],
  ] as const)
    if (given !== undefined && value === null)
      problems.push({
        path: name,
        code: "invalid_time",
        message: `${name} must be an ISO 8601 date or time, or epoch milliseconds, from 1970 to 9999.`,
      });
  if (from !== null && to !== null && from > to)
    problems.push({ path: "from", code: "invalid_value", message: "from is after to." });
  return problems.length > 0 || from === null || to === null ? problems : { from, to };
}

/**
 * The leads of a query, each summed up by `summarize` (at most `limit`, 1000 by default), or
 * the query's refusal.
 */
export async function readLeads<T>(
  deps: LeadsReadDeps,
  q: {
    accountId: string;
    from?: string;
    to?: string;
    by?: "received" | "occurred";
    after?: string;
    limit?: number;
    /** Only the leads this keeps (a filter beside the range). */
    only?: (lead: TrackedEvent) => boolean;
  },
  budget: ScanBudget,
  summarize: (lead: TrackedEvent, journey: Journey) => T,
  known?: (lead: TrackedEvent) => T | undefined,
) {
  const accountId = parsePathId(q.accountId);
  if (accountId === null) return badAccount(q.accountId);
  const r = leadsRange(q, deps.now());
  if (Array.isArray(r)) return errorResponse("invalid_request", r);
  // By when they happened: a lead arrives at most a day before it happened (events/time.ts)
  // and any time after (an import of history), so every lead since then is read and sifted.
  const occurred = q.by === "occurred";
  const page = await listLeads(
    deps.reader,
    {
      accountId,
      fromKey: timeKey(occurred ? r.from - DAY_MS : r.from),
      toKey: occurred ? timeKey(LATEST_MS) : timeKey(r.to),
      ...(occurred
        ? { occurred: { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() } }
        : {}),
      after: q.after?.toLowerCase(),
      limit: q.limit ?? 1000,
      ...(q.only && { only: q.only }),
    },
    deps.journey,
    deps.isLead,
    budget,
    summarize,
    known,
  );
  return {
    accountId,
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    by: occurred ? ("occurred" as const) : ("received" as const),
    ...page,
  };
}
