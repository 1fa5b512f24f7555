/**
 * The admin API under /admin/api, every route behind the admin token
 * (`Authorization: Bearer <token>`). Read routes over what the store holds.
 */
import { Elysia } from "elysia";
import { errorResponse } from "../errors.ts";
import type { EventDelivery } from "../delivery/sink-loops.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import type { Store } from "../store/open-store.ts";
import { pathParams } from "./params.ts";
import {
  EventListQuery,
  InstanceQuery,
  NoQuery,
  RejectListQuery,
  toFilter,
  type WithParams,
} from "./admin.model.ts";
import { json } from "./json.ts";
import { withQuery } from "./admin-input.ts";
import { maySee } from "./admin-access.ts";
import { scanned } from "./admin-scan.ts";

export interface AdminDeps {
  store: Pick<Store, "events" | "rejects" | "stats" | "usedBytes" | "fileBytes" | "leadDeliveries">;
  /** Where an event is per sink (from delivery); absent when nothing delivers. */
  whereIs?: (eventId: string, json: string) => EventDelivery[];
  /** How long a scan of the events may run (admin.queryTimeoutSeconds). */
  queryTimeoutMs: number;
}

export function adminRoutes(deps: AdminDeps) {
  const { events, rejects, stats } = deps.store;
  const timeline = (accountId: string, instanceId: string) => {
    // IDs longer than any stored one simply have no timeline.
    const tooLong = accountId.length > 64 || instanceId.length > 400;
    return json({
      accountId: accountId.toLowerCase(),
      instanceId,
      events: tooLong ? [] : events.timeline(accountId.toLowerCase(), instanceId, 1000),
    });
  };
  return (
    new Elysia({ name: "admin-api" })
      .get(
        "/events",
        withQuery(EventListQuery, (query, { request }) =>
          scanned(request, deps.queryTimeoutMs, async (budget) =>
            json(
              await events.listPaced(toFilter(query), query.limit ?? 50, query.before, () =>
                budget.pace(),
              ),
            ),
          ),
        ),
      )
      .get(
        "/events/:eventId",
        withQuery(NoQuery, (_, { params: raw, request }: WithParams) => {
          const params = pathParams(raw);
          const eventId = params.eventId!.toLowerCase();
          const stored = eventId.length <= 64 ? events.getJson(eventId) : undefined;
          const event = stored === undefined ? undefined : (JSON.parse(stored) as TrackedEvent);
          // Another account's event is, to a credential limited to accounts, no event.
          if (stored === undefined || !event || !maySee(request, event.accountId))
            return errorResponse("event_not_found", [
              { path: "eventId", code: "invalid_value", message: `No event ${params.eventId}.` },
            ]);
          return json({
            event,
            stored: true,
            delivery: deps.whereIs?.(eventId, stored) ?? [],
            // A lead's deliveries to CRM sinks: what the CRM answered, not only the cursor.
            leadDeliveries: deps.store.leadDeliveries.of(eventId),
          });
        }),
      )
      .get(
        "/instances/:accountId/:instanceId",
        withQuery(NoQuery, (_, { params }: WithParams) => {
          const { accountId, instanceId } = pathParams(params);
          return timeline(accountId!, instanceId!);
        }),
      )
      // The same with the instance ID in the query: URLs cannot carry "." or ".." as a path segment.
      .get(
        "/instances/:accountId",
        withQuery(InstanceQuery, (query, { params }: WithParams) =>
          timeline(pathParams(params).accountId!, query.instanceId),
        ),
      )
      .get(
        "/rejects",
        withQuery(RejectListQuery, (query, { request }) =>
          scanned(request, deps.queryTimeoutMs, async (budget) =>
            json({
              rejects: await rejects.listPaced({ ...query, limit: query.limit ?? 50 }, () =>
                budget.pace(),
              ),
            }),
          ),
        ),
      )
      .get(
        "/trackers",
        withQuery(NoQuery, () =>
          json({
            trackers: stats.list(),
            storedEvents: events.count(),
            storageBytes: deps.store.usedBytes(),
            fileBytes: deps.store.fileBytes(),
          }),
        ),
      )
  );
}
