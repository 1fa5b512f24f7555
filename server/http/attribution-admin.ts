/**
 * Leads by campaign: GET /admin/api/attribution?accountId=&from=&to=&by=&model= sums the
 * credit of each lead in the range (journey/attribution.ts) per channel and per day.
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { creditLead, MODELS, sumCredits, type Model } from "../journey/attribution.ts";
import { withQuery } from "./admin-input.ts";
import { scanned } from "./admin-scan.ts";
import { json } from "./json.ts";
import { leadRule } from "../journey/lead-rule.ts";
import type { JourneyAdminDeps } from "./journey-admin.ts";
import { RangeFields, readLeads } from "./leads-query.ts";

const AttributionQuery = t.Object({
  ...RangeFields,
  model: t.Optional(t.Union(MODELS.map((m) => t.Literal(m)))),
});

export function attributionAdminRoutes(deps: JourneyAdminDeps) {
  const read = { ...deps, isLead: leadRule(deps.leads) };
  return new Elysia({ name: "attribution-admin" }).get(
    "/attribution",
    withQuery(AttributionQuery, (query, { request }) =>
      scanned(request, deps.queryTimeoutMs, async (budget) => {
        const model: Model = query.model ?? "last_non_direct";
        const found = await readLeads(
          read,
          { ...query, limit: Number.MAX_SAFE_INTEGER },
          budget,
          (lead, journey) => creditLead(lead, deps.touches.keep(lead, journey), model),
          (lead) => {
            const channels = deps.touches.known(lead);
            return channels && creditLead(lead, channels, model);
          },
        );
        if (found instanceof Response) return found;
        const { leads, ...range } = found;
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
  );
}
