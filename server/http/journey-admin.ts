/**
 * The shopper behind a lead, and where leads came from:
 * GET /admin/api/journey?accountId=&eventId= (or &instanceId=), GET /admin/api/leads with
 * .csv and .ndjson downloads. Computed at query time from the link index (journey/).
 */
import { Elysia, t } from "elysia";
import type { JourneyLimits, LeadRule } from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import { findJourney, type JourneyReader, type JourneySeed } from "../journey/journey.ts";
import { leadRule } from "../journey/lead-rule.ts";
import { listLeads } from "../journey/leads.ts";
import { timeKey } from "../store/event-store.ts";
import { json } from "./json.ts";
import { leadsCsv, leadsNdjson } from "./lead-export.ts";

export interface JourneyAdminDeps {
  reader: JourneyReader;
  journey: JourneyLimits;
  leads: LeadRule;
  now: () => number;
}

const JourneyQuery = t.Object({
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  eventId: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  instanceId: t.Optional(t.String({ minLength: 1, maxLength: 400 })),
});

const LeadsQuery = t.Object({
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  from: t.Optional(t.String({ maxLength: 64 })),
  to: t.Optional(t.String({ maxLength: 64 })),
  after: t.Optional(t.String({ maxLength: 64 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
});

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;

/** An ISO 8601 date or date-time, or epoch milliseconds; null if it is neither. */
function parseTime(value: string): number | null {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const badAccount = (raw: string) =>
  errorResponse("invalid_request", [
    {
      path: "accountId",
      code: "invalid_id",
      message: `accountId ${JSON.stringify(raw.slice(0, 64))} is not a positive integer or a UUID.`,
    },
  ]);

export function journeyAdminRoutes(deps: JourneyAdminDeps) {
  const isLead = leadRule(deps.leads);

  /** The time range of a leads query: [from, to), by default the last 30 days. */
  const range = (q: {
    from?: string;
    to?: string;
  }): { from: number; to: number } | ErrorDetail[] => {
    const problems: ErrorDetail[] = [];
    const to = q.to ? parseTime(q.to) : deps.now();
    const from = q.from ? parseTime(q.from) : to === null ? null : to - DEFAULT_DAYS * DAY_MS;
    if (q.to && to === null)
      problems.push({
        path: "to",
        code: "invalid_value",
        message: "to must be an ISO 8601 date or time, or epoch milliseconds.",
      });
    if (q.from && from === null)
      problems.push({
        path: "from",
        code: "invalid_value",
        message: "from must be an ISO 8601 date or time, or epoch milliseconds.",
      });
    if (from !== null && to !== null && from > to)
      problems.push({ path: "from", code: "invalid_value", message: "from is after to." });
    return problems.length > 0 || from === null || to === null ? problems : { from, to };
  };

  const leadsOf = async (q: typeof LeadsQuery.static) => {
    const accountId = parsePathId(q.accountId);
    if (accountId === null) return badAccount(q.accountId);
    const r = range(q);
    if (Array.isArray(r)) return errorResponse("invalid_request", r);
    const page = await listLeads(
      deps.reader,
      {
        accountId,
        fromKey: timeKey(r.from),
        toKey: timeKey(r.to),
        after: q.after?.toLowerCase(),
        limit: q.limit ?? 1000,
      },
      deps.journey,
      isLead,
    );
    return {
      accountId,
      from: new Date(r.from).toISOString(),
      to: new Date(r.to).toISOString(),
      ...page,
    };
  };
  /** The leads page in one format, or the query's refusal. */
  const answer = async (
    query: typeof LeadsQuery.static,
    format: (page: Exclude<Awaited<ReturnType<typeof leadsOf>>, Response>) => Response,
  ) => {
    const page = await leadsOf(query);
    return page instanceof Response ? page : format(page);
  };
  const download = (body: string, type: string, name: string) =>
    new Response(body, {
      headers: {
        "content-type": type,
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "no-store",
      },
    });

  return new Elysia({ name: "journey-admin" })
    .get(
      "/journey",
      ({ query }) => {
        if ((query.eventId === undefined) === (query.instanceId === undefined))
          return errorResponse("invalid_request", [
            {
              path: "eventId",
              code: "invalid_value",
              message: "Give exactly one of eventId and instanceId.",
            },
          ]);
        const seed: JourneySeed =
          query.eventId !== undefined
            ? { eventId: query.eventId.toLowerCase() }
            : { instanceId: query.instanceId! };
        const accountId = parsePathId(query.accountId);
        if (accountId === null) return badAccount(query.accountId);
        const journey = findJourney(deps.reader, accountId, seed, deps.journey, isLead);
        if (!journey)
          return errorResponse("event_not_found", [
            {
              path: "eventId",
              code: "invalid_value",
              message: `No event ${query.eventId} in account ${query.accountId}.`,
            },
          ]);
        return json(journey);
      },
      { query: JourneyQuery },
    )
    .get("/leads", ({ query }) => answer(query, json), { query: LeadsQuery })
    .get(
      "/leads.csv",
      ({ query }) =>
        answer(query, (page) =>
          download(leadsCsv(page.leads), "text/csv; charset=utf-8", `leads-${page.accountId}.csv`),
        ),
      { query: LeadsQuery },
    )
    .get(
      "/leads.ndjson",
      ({ query }) =>
        answer(query, (page) =>
          download(
            leadsNdjson(page.leads),
            "application/x-ndjson",
            `leads-${page.accountId}.ndjson`,
          ),
        ),
      { query: LeadsQuery },
    );
}
