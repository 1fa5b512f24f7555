/**
 * The admin API under /admin/api, every route behind the admin token
 * (`Authorization: Bearer <token>`). Read routes over what the store holds.
 */
import { Elysia } from "elysia";
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import { errorResponse } from "../errors.ts";
import type { Store } from "../store/open-store.ts";
import { EventListQuery, RejectListQuery } from "./admin.model.ts";

export interface AdminDeps {
  store: Store;
  adminToken: string;
}

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

export function adminRoutes(deps: AdminDeps) {
  const { events, rejects, stats } = deps.store;
  return new Elysia({ name: "admin-api", prefix: "/admin/api" })
    .onBeforeHandle(({ request }) => {
      const token = bearerToken(request.headers.get("authorization"));
      if (!token || !tokenMatches(token, deps.adminToken)) return errorResponse("unauthorized", [], undefined, { "www-authenticate": "Bearer" });
    })
    .get(
      "/events",
      ({ query }) => {
        const filter = {
          accountId: query.accountId?.toLowerCase(),
          trackerId: query.trackerId?.toLowerCase(),
          instanceId: query.instanceId,
          action: query.action,
          test: query.test === undefined ? undefined : query.test === "true",
        };
        return json(events.list(filter, query.limit ?? 50, query.before));
      },
      { query: EventListQuery },
    )
    .get("/events/:eventId", ({ params }) => {
      const event = events.get(params.eventId.toLowerCase());
      return event ? json({ event }) : errorResponse("event_not_found", [{ path: "eventId", code: "invalid_value", message: `No event ${params.eventId}.` }]);
    })
    .get("/rejects", ({ query }) => json({ rejects: rejects.list({ ...query, limit: query.limit ?? 50 }) }), { query: RejectListQuery })
    .get("/trackers", () => json({ trackers: stats.list(), storedEvents: events.count(), storageBytes: deps.store.sizeBytes() }));
}
