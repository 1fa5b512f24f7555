/**
 * The shopper behind a lead, and where leads came from:
 * GET /admin/api/journey?accountId=&eventId= (or &instanceId=), GET /admin/api/leads with
 * .csv and .ndjson downloads, and one lead's detail (GET /admin/api/leads/{eventId}: its
 * customer, opened, and where it was delivered). Computed at query time from the link index
 * (journey/).
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { AttributionConfig, JourneyLimits, LeadRule } from "../config/schema.ts";
import { errorResponse } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import type { LeadDelivery, LeadDeliveryLog } from "../events/lead-facts.ts";
import { hadCustomer } from "../events/lead-details.ts";
import type { ContactVault } from "../store/contact-vault.ts";
import { findJourneyPaced, type JourneyReader, type JourneySeed } from "../journey/journey.ts";
import { type IsLead, leadRule } from "../journey/lead-rule.ts";
import type { LeadTouches } from "../journey/lead-touches.ts";
import { summarizeLead, type LeadSummary } from "../journey/leads.ts";
import { badAccount, DAY_MS, LeadsQuery, readLeads } from "./leads-query.ts";
import { json, jsonText } from "./json.ts";
import { csvHeader, leadCsvRow, renderPaced } from "./lead-export.ts";
import { withQuery } from "./admin-input.ts";
import type { CrmState, LeadDetail, WithParams } from "./admin.model.ts";
import { ScanBudget } from "../store/scan-budget.ts";
import { scanned } from "./admin-scan.ts";

export interface JourneyAdminDeps {
  reader: JourneyReader;
  /** Each lead's touches kept for attribution: refreshed whenever a lead's journey is walked here. */
  touches: LeadTouches;
  journey: JourneyLimits;
  leads: LeadRule;
  attribution: AttributionConfig;
  /** How long one leads query may run (admin.queryTimeoutSeconds). */
  queryTimeoutMs: number;
  now: () => number;
  /** Each lead's deliveries to CRM sinks, and its customer (opened only for a lead's detail). */
  deliveries: Pick<LeadDeliveryLog, "of">;
  contacts: Pick<ContactVault, "open">;
}

/** Where a lead went, in one word: every CRM took it, one refused it, one is still trying, or none has it. */
export function crmState(records: LeadDelivery[]): CrmState {
  if (records.length === 0) return "none";
  if (records.some((r) => r.state === "refused")) return "refused";
  if (records.some((r) => r.state !== "delivered")) return "failing";
  return "delivered";
}

/** The leads query, with the CRM delivery state to keep. */
const LeadsListQuery = t.Object({
  ...LeadsQuery.properties,
  crm: t.Optional(
    t.Union([
      t.Literal("delivered"),
      t.Literal("refused"),
      t.Literal("failing"),
      t.Literal("none"),
    ]),
  ),
});

const LeadQuery = t.Object({ accountId: t.String({ minLength: 1, maxLength: 64 }) });

const JourneyQuery = t.Object({
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  eventId: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  instanceId: t.Optional(t.String({ minLength: 1, maxLength: 400 })),
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

/** One lead's detail: its summary, its customer opened, and where it was delivered. */
function leadDetail(deps: JourneyAdminDeps, isLead: IsLead, lookbackMs: number) {
  return withQuery(LeadQuery, (query, { request, params }: WithParams) =>
    scanned(request, deps.queryTimeoutMs, async (budget) => {
      const accountId = parsePathId(query.accountId);
      if (accountId === null) return badAccount(query.accountId);
      const eventId = (params.eventId ?? "").toLowerCase();
      const lead = deps.reader.get(eventId);
      if (!lead || lead.accountId !== accountId || !isLead(lead))
        return errorResponse("event_not_found", [
          {
            path: "eventId",
            code: "invalid_value",
            message: `No lead ${eventId.slice(0, 64)} in account ${accountId}.`,
          },
        ]);
      const journey = await findJourneyPaced(
        deps.reader,
        accountId,
        { eventId },
        deps.journey,
        isLead,
        () => budget.pace(),
      );
      const contact = deps.contacts.open(eventId, hadCustomer(lead));
      const deliveries = deps.deliveries.of(eventId);
      const detail: LeadDetail = {
        lead: { ...summarizeLead(lead, journey!, lookbackMs), crm: crmState(deliveries) },
        contact: contact.state,
        customer: contact.state === "kept" ? contact.customer : null,
        deliveries,
      };
      return json(detail);
    }),
  );
}

export function journeyAdminRoutes(deps: JourneyAdminDeps) {
  const isLead = leadRule(deps.leads);
  const lookbackMs = deps.attribution.lookbackDays * DAY_MS;

  const read = { ...deps, isLead };
  const crmOf = (lead: TrackedEvent) => crmState(deps.deliveries.of(lead.eventId));
  const leadsOf = (q: typeof LeadsListQuery.static, budget: ScanBudget) => {
    const wanted = q.crm;
    // Filtered in the scan, so pages and limits hold.
    const only = wanted && ((lead: TrackedEvent) => crmOf(lead) === wanted);
    return readLeads(read, { ...q, ...(only && { only }) }, budget, (lead, journey) => {
      deps.touches.keep(lead, journey);
      return { ...summarizeLead(lead, journey, lookbackMs), crm: crmOf(lead) };
    });
  };
  /**
   * The leads page in one format (rendered lead by lead, paced like the scan: 10,000 leads
   * are megabytes of text), or the query's refusal, or why it stopped.
   */
  const answer =
    (format: (page: LeadsPage, pace: () => Promise<void>) => Promise<Response>) =>
    (query: typeof LeadsListQuery.static, { request }: { request: Request }) =>
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
    (query: typeof LeadsListQuery.static, { request }: { request: Request }) =>
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
        LeadsListQuery,
        answer(async ({ leads, next, ...page }, pace) => {
          const items = await renderPaced(leads, (l) => JSON.stringify(l), pace);
          // The page's fields in their usual order, its leads rendered one by one.
          const head = JSON.stringify(page).slice(0, -1);
          return jsonText(`${head},"leads":[${items.join(",")}],"next":${JSON.stringify(next)}}`);
        }),
      ),
    )
    .get("/leads.csv", withQuery(LeadsListQuery, exported("csv")))
    .get("/leads.ndjson", withQuery(LeadsListQuery, exported("ndjson")))
    .get("/leads/:eventId", leadDetail(deps, isLead, lookbackMs));
}
