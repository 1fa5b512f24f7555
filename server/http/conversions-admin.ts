/**
 * Conversion files the ad platforms fetch: GET /admin/api/conversions/google-ads.csv (Google
 * Ads' offline conversion import: the time zone parameter row, then a click ID or the hashed
 * contact per row) and GET /admin/api/conversions/meta.csv (Meta's CRM conversions), for one
 * account's leads and their later stages that happened in [from, to), only those the platform
 * can match (journey/conversions.ts). Readable by the admin, by read and export credentials,
 * and by the account's export credential over HTTP Basic (a scheduled upload's user name and
 * password); for any account outside a credential's, 404 (admin-access.ts).
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { errorResponse } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import {
  type Conversion,
  conversionsOf,
  googleCanMatch,
  metaCanMatch,
} from "../journey/conversions.ts";
import { leadRule } from "../journey/lead-rule.ts";
import { withQuery } from "./admin-input.ts";
import { scanned } from "./admin-scan.ts";
import type { JourneyAdminDeps } from "./journey-admin.ts";
import { csvRow } from "./lead-export.ts";
import { badAccount, DAY_MS, leadsRange, readLeads } from "./leads-query.ts";

const ConversionsQuery = t.Object({
  accountId: t.String({ minLength: 1, maxLength: 64 }),
  from: t.Optional(t.String({ maxLength: 64 })),
  to: t.Optional(t.String({ maxLength: 64 })),
  /** The name of the lead's conversion action in the platform (a stage's is the stage). */
  conversionName: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
});

/** Google's columns, as its import template names them. */
export const GOOGLE_COLUMNS = [
  "Google Click ID",
  "GBRAID",
  "WBRAID",
  "Email",
  "Phone Number",
  "Conversion Name",
  "Conversion Time",
  "Conversion Value",
  "Conversion Currency",
  "Order ID",
];

export const META_COLUMNS = [
  "event_name",
  "event_time",
  "action_source",
  "lead_id",
  "fbc",
  "fbp",
  "email",
  "phone",
  "value",
  "currency",
  "order_id",
];

/** "yyyy-MM-dd HH:mm:ss" in UTC (the file's time zone row says +0000). */
const googleTime = (iso: string) => iso.slice(0, 19).replace("T", " ");

function googleRow(c: Conversion, name: string): string {
  const g = c.google;
  return csvRow([
    g.gclid,
    g.gbraid,
    g.wbraid,
    g.emailSha256,
    g.phoneSha256,
    c.stage ?? name,
    googleTime(c.occurredAt),
    c.value,
    c.value === null ? null : (c.currency ?? "USD"),
    c.eventId,
  ]);
}

function metaRow(c: Conversion, name: string): string {
  const m = c.meta;
  return csvRow([
    c.stage ?? name,
    Math.floor(Date.parse(c.occurredAt) / 1000),
    "system_generated",
    m.leadId,
    m.fbc,
    m.fbp,
    m.emailSha256,
    m.phoneSha256,
    c.value,
    c.value === null ? null : (c.currency ?? "USD"),
    c.eventId,
  ]);
}

export function conversionsAdminRoutes(deps: JourneyAdminDeps) {
  const read = { ...deps, isLead: leadRule(deps.leads) };
  const lookbackMs = deps.attribution.lookbackDays * DAY_MS;
  const file = (
    name: string,
    head: string,
    canMatch: (c: Conversion) => boolean,
    row: (c: Conversion, name: string) => string,
  ) =>
    withQuery(ConversionsQuery, (query, { request }) =>
      scanned(request, deps.queryTimeoutMs, async (budget) => {
        const accountId = parsePathId(query.accountId);
        if (accountId === null) return badAccount(query.accountId);
        const range = leadsRange(query, deps.now());
        if (Array.isArray(range)) return errorResponse("invalid_request", range);
        const span = {
          from: new Date(range.from).toISOString(),
          to: new Date(range.to).toISOString(),
        };
        // A stage in the range may belong to a lead from up to the lookback before it.
        const found = await readLeads(
          read,
          {
            accountId,
            from: String(Math.max(0, range.from - lookbackMs)),
            to: String(range.to),
            by: "occurred",
            limit: Number.MAX_SAFE_INTEGER,
          },
          budget,
          (lead, journey) => conversionsOf(lead, journey, lookbackMs, span),
        );
        if (found instanceof Response) return found;
        const conversions = found.leads.flat().filter(canMatch);
        conversions.sort((a, b) =>
          a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0,
        );
        const lines = [head, ...conversions.map((c) => row(c, query.conversionName ?? "Lead"))];
        return new Response(lines.map((l) => `${l}\r\n`).join(""), {
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": `attachment; filename="${name}-${accountId}.csv"`,
            "cache-control": "no-store",
          },
        });
      }),
    );
  return new Elysia({ name: "conversions-admin", prefix: "/conversions" })
    .get(
      "/google-ads.csv",
      file(
        "google-ads",
        `Parameters:TimeZone=+0000\r\n${GOOGLE_COLUMNS.join(",")}`,
        googleCanMatch,
        googleRow,
      ),
    )
    .get("/meta.csv", file("meta", META_COLUMNS.join(","), metaCanMatch, metaRow));
}
