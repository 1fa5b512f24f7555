/** The overview: events per minute, totals per tracker, storage, sinks, and rejects by code. */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { withQuery } from "./admin-input.ts";
import { scanned } from "./admin-scan.ts";
import { NoQuery } from "./admin.model.ts";
import type { Delivery } from "../delivery/sink-loops.ts";
import type { Registry } from "../registry/registry.ts";
import type { Store } from "../store/open-store.ts";
import { json } from "./json.ts";
import type { Overview } from "./admin.model.ts";

/** Minutes of the per-minute chart: at most a day. */
const OverviewQuery = t.Object({ minutes: t.Optional(t.Integer({ minimum: 1, maximum: 1440 })) });

export function overviewAdminRoutes(deps: {
  store: Pick<Store, "events" | "rejects" | "stats" | "usedBytes" | "fileBytes">;
  registry: Registry;
  delivery?: Delivery;
  capBytes: number;
  now: () => number;
  /** How long counting the reject log may run (admin.queryTimeoutSeconds). */
  queryTimeoutMs: number;
}) {
  const { store, registry } = deps;
  return new Elysia({ name: "overview-admin" })
    .get(
      "/overview",
      withQuery(OverviewQuery, async (query) => {
        const now = deps.now();
        const minutes = query.minutes ?? 180;
        const sinks = deps.delivery ? await deps.delivery.report(false) : [];
        return json({
          perMinute: store.stats.eventsPerMinute(now - (minutes - 1) * 60_000, now),
          trackers: store.stats.list().map((c) => ({
            ...c,
            ...store.stats.recent(c.accountId, c.trackerId, now),
            accountName: registry.account(c.accountId)?.name ?? null,
            trackerName: registry.tracker(c.accountId, c.trackerId)?.name ?? null,
          })),
          storage: {
            usedBytes: store.usedBytes(),
            fileBytes: store.fileBytes(),
            capBytes: deps.capBytes,
            storedEvents: store.events.count(),
          },
          sinks,
          deadLetters: sinks.reduce((n, s) => n + s.deadLetters, 0),
        } satisfies Overview);
      }),
    )
    .get(
      "/rejects/summary",
      withQuery(NoQuery, (_, { request }) =>
        scanned(request, deps.queryTimeoutMs, async (budget) =>
          json(await store.rejects.countByCode(() => budget.pace())),
        ),
      ),
    );
}
