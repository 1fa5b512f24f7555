/**
 * The shopper behind a lead, and where leads came from:
 * GET /admin/api/journey?accountId=&eventId= (or &instanceId=), GET /admin/api/leads with
 * .csv and .ndjson downloads. Computed at query time from the link index (journey/).
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { AttributionConfig, JourneyLimits, LeadRule } from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import {
  findJourneyPaced,
  type Journey,
  type JourneyReader,
  type JourneySeed,
} from "../journey/journey.ts";
import { leadRule } from "../journey/lead-rule.ts";
import { listLeads, summarizeLead, type LeadSummary } from "../journey/leads.ts";
import { creditLead, MODELS, sumCredits, type Model } from "../journey/attribution.ts";
import { timeKey } from "../store/event-store.ts";
import { json, jsonText } from "./json.ts";
import { csvHeader, leadCsvRow, renderPaced } from "./lead-export.ts";
import { withQuery } from "./admin-input.ts";
import { ScanBudget } from "../store/scan-budget.ts";
import { scanned } from "./admin-scan.ts";

export interface JourneyAdminDeps {
  reader: JourneyReader;
  journey: JourneyLimits;
  leads: LeadRule;
  attribution: AttributionConfig;
  /** How long one leads query may run (admin.queryTimeoutSeconds). */
  queryTimeoutMs: number;
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
  /** What from and to are about: when the lead arrived (default) or when it happened. */
  by: t.Optional(t.Union([t.Literal("received"), t.Literal("occurred")])),
});

const AttributionQuery = t.Object({
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  from: t.Optional(t.String({ maxLength: 64 })),
  to: t.Optional(t.String({ maxLength: 64 })),
  by: t.Optional(t.Union([t.Literal("received"), t.Literal("occurred")])),
  model: t.Optional(t.Union(MODELS.map((m) => t.Literal(m)))),
});

/** A page of leads as the API answers it (before rendering). */
interface LeadsPage {
  accountId: string;
  from: string;
  to: string;
  by: "received" | "occurred";
  leads: LeadSummary[];
  next: string | null;
}

/** Leads read and rendered at a time by an export of a whole range. */
const EXPORT_CHUNK = 200;

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;

/** The times a leads query may name: from 1970 to the end of 9999 (event IDs hold no earlier time). */
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 date or date-time, or epoch milliseconds, from 1970 to 9999; null otherwise. */
function parseTime(value: string): number | null {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 && ms <= LATEST_MS ? ms : null;
}

const badAccount = (raw: string) =>
  errorResponse("invalid_request", [
    {
      path: "accountId",
      code: "invalid_id",
      message: `accountId ${JSON.stringify(raw.slice(0, 64))} is not a positive integer or a UUID.`,
    },
  ]);

/** The time range of a leads query: [from, to), by default the 30 days up to `now` (included). */
function leadsRange(
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

export function journeyAdminRoutes(deps: JourneyAdminDeps) {
  const isLead = leadRule(deps.leads);
  const lookbackMs = deps.attribution.lookbackDays * DAY_MS;

  /** The leads of a query, each summed up by `summarize`; or the query's refusal. */
  const eachLead = async <T>(
    q: typeof LeadsQuery.static,
    budget: ScanBudget,
    summarize: (lead: TrackedEvent, journey: Journey) => T,
  ) => {
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
      },
      deps.journey,
      isLead,
      budget,
      summarize,
    );
    return {
      accountId,
      from: new Date(r.from).toISOString(),
      to: new Date(r.to).toISOString(),
      by: occurred ? ("occurred" as const) : ("received" as const),
      ...page,
    };
  };
  const leadsOf = (q: typeof LeadsQuery.static, budget: ScanBudget) =>
    eachLead(q, budget, (lead, journey) => summarizeLead(lead, journey, lookbackMs));
  /**
   * The leads page in one format (rendered lead by lead, paced like the scan: 10,000 leads
   * are megabytes of text), or the query's refusal, or why it stopped.
   */
  const answer =
    (format: (page: LeadsPage, pace: () => Promise<void>) => Promise<Response>) =>
    (query: typeof LeadsQuery.static, { request }: { request: Request }) =>
      scanned(request, deps.queryTimeoutMs, async (budget) => {
        const page = await leadsOf(query, budget);
        return page instanceof Response ? page : await format(page, () => budget.pace());
      });
  /**
   * A download of the query's leads: with `limit`, that one page; without, every lead in the
   * range, streamed EXPORT_CHUNK leads at a time as the client reads (memory stays bounded).
   * Each chunk is a scan with its own time limit; a chunk that stops (the client went, or it
   * ran out of time) ends the response with an error, never as if the file were complete.
   */
  const exported =
    (kind: "csv" | "ndjson") =>
    (query: typeof LeadsQuery.static, { request }: { request: Request }) =>
      scanned(request, deps.queryTimeoutMs, async (budget) => {
        const first = await leadsOf({ ...query, limit: query.limit ?? EXPORT_CHUNK }, budget);
        if (first instanceof Response) return first;
        const render =
          kind === "csv"
            ? (l: LeadSummary) => `${leadCsvRow(l)}\r\n`
            : (l: LeadSummary) => `${JSON.stringify(l)}\n`;
        const text = async (page: LeadsPage, pace: () => Promise<void>) =>
          (await renderPaced(page.leads, render, pace)).join("");
        const encoder = new TextEncoder();
        const head = kind === "csv" ? csvHeader() : "";
        let page = first;
        let chunk = head + (await text(page, () => budget.pace()));
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (chunk !== "") controller.enqueue(encoder.encode(chunk));
            chunk = "";
            if (query.limit !== undefined || page.next === null) return controller.close();
            const next = new ScanBudget(deps.queryTimeoutMs, request.signal);
            const range = { from: page.from, to: page.to, after: page.next, limit: EXPORT_CHUNK };
            const read = await leadsOf({ ...query, ...range }, next);
            if (read instanceof Response) return controller.error(new Error("range refused"));
            page = read;
            chunk = await text(page, () => next.pace());
          },
        });
        return new Response(stream, {
          headers: {
            "content-type": kind === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
            "content-disposition": `attachment; filename="leads-${first.accountId}.${kind}"`,
            "cache-control": "no-store",
          },
        });
      });

  return new Elysia({ name: "journey-admin" })
    .get(
      "/attribution",
      withQuery(AttributionQuery, (query, { request }) =>
        scanned(request, deps.queryTimeoutMs, async (budget) => {
          const model: Model = query.model ?? "last_non_direct";
          const read = await eachLead(
            { ...query, limit: Number.MAX_SAFE_INTEGER },
            budget,
            (lead, journey) => creditLead(lead, journey, lookbackMs, model),
          );
          if (read instanceof Response) return read;
          const { leads, ...range } = read;
          return json({
            accountId: range.accountId,
            from: range.from,
            to: range.to,
            by: range.by,
            model,
            lookbackDays: deps.attribution.lookbackDays,
            ...sumCredits(leads, range.by),
          });
        }),
      ),
    )
    .get(
      "/journey",
      withQuery(JourneyQuery, (query, { request }) =>
        scanned(request, deps.queryTimeoutMs, async (budget) => {
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
          const journey = await findJourneyPaced(
            deps.reader,
            accountId,
            seed,
            deps.journey,
            isLead,
            () => budget.pace(),
          );
          if (!journey)
            return errorResponse("event_not_found", [
              {
                path: "eventId",
                code: "invalid_value",
                message: `No event ${query.eventId} in account ${query.accountId}.`,
              },
            ]);
          return json(journey);
        }),
      ),
    )
    .get(
      "/leads",
      withQuery(
        LeadsQuery,
        answer(async ({ leads, next, ...page }, pace) => {
          const items = await renderPaced(leads, (l) => JSON.stringify(l), pace);
          // The page's fields in their usual order, its leads rendered one by one.
          const head = JSON.stringify(page).slice(0, -1);
          return jsonText(`${head},"leads":[${items.join(",")}],"next":${JSON.stringify(next)}}`);
        }),
      ),
    )
    .get("/leads.csv", withQuery(LeadsQuery, exported("csv")))
    .get("/leads.ndjson", withQuery(LeadsQuery, exported("ndjson")));
}
