/**
 * The delivery side of the admin API: sinks (health, cursor, lag, counts), dead letters and
 * their replay. Behind the admin token like every /admin/api route.
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { errorResponse } from "../errors.ts";
import type { Delivery } from "../delivery/sink-loops.ts";
import type { DeliveryStore } from "../store/delivery-store.ts";
import { json } from "./json.ts";
import { withQuery } from "./admin-input.ts";

export interface DeliveryAdminDeps {
  delivery: Delivery;
  store: DeliveryStore;
}

const SinksQuery = t.Object({
  check: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
});
const DeadLettersQuery = t.Object({
  sink: t.Optional(t.String({ maxLength: 64 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000 })),
});
const ReplayQuery = t.Object({ sink: t.Optional(t.String({ maxLength: 64 })) });

export function deliveryAdminRoutes(deps: DeliveryAdminDeps) {
  const unknownSink = (sink: string | undefined) =>
    sink !== undefined && !deps.delivery.sinkNames().includes(sink)
      ? errorResponse("sink_not_found", [
          { path: "sink", code: "invalid_value", message: `No sink named ${sink}.` },
        ])
      : null;
  return new Elysia({ name: "delivery-admin" })
    .get(
      "/sinks",
      withQuery(SinksQuery, async (query) =>
        json({ sinks: await deps.delivery.report(query.check === "true") }),
      ),
    )
    .get(
      "/dead-letters",
      withQuery(
        DeadLettersQuery,
        (query) =>
          unknownSink(query.sink) ??
          json({ deadLetters: deps.store.deadLetters(query.sink, query.limit ?? 100) }),
      ),
    )
    .post(
      "/dead-letters/replay",
      withQuery(
        ReplayQuery,
        async (query) =>
          unknownSink(query.sink) ?? json({ requeued: await deps.delivery.replay(query.sink) }),
      ),
    );
}
