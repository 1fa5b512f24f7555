/** Query schemas of the admin API. */
import { t } from "elysia";
import type { EventFilter } from "../store/event-store.ts";

const Limit = t.Integer({ minimum: 1, maximum: 500, default: 50 });

const filterFields = {
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  instanceId: t.Optional(t.String({ maxLength: 400 })), // the longest an instance ID can be
  action: t.Optional(t.String({ maxLength: 1024 })),
  object: t.Optional(t.String({ maxLength: 1024 })),
  vendor: t.Optional(t.String({ maxLength: 1024 })),
  product: t.Optional(t.String({ maxLength: 1024 })),
  test: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
};

export const EventListQuery = t.Object({ limit: t.Optional(Limit), before: t.Optional(t.String({ maxLength: 64 })), ...filterFields });
export const EventStreamQuery = t.Object(filterFields);
export const InstanceQuery = t.Object({ instanceId: t.String({ minLength: 1, maxLength: 400 }) });

/** The store filter from list or stream query parameters (IDs lowercased like path IDs; empty means any). */
export function toFilter(q: { [K in keyof typeof filterFields]?: string }): EventFilter {
  const v = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);
  return {
    accountId: v(q.accountId)?.toLowerCase(),
    trackerId: v(q.trackerId)?.toLowerCase(),
    instanceId: v(q.instanceId),
    action: v(q.action),
    object: v(q.object),
    vendor: v(q.vendor),
    product: v(q.product),
    test: q.test === undefined ? undefined : q.test === "true",
  };
}

export const RejectListQuery = t.Object({
  limit: t.Optional(Limit),
  before: t.Optional(t.String({ maxLength: 64 })),
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  code: t.Optional(t.String({ maxLength: 64 })),
});
