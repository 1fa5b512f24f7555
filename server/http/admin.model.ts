/** Query schemas of the admin API. */
import { t } from "elysia";

const Limit = t.Integer({ minimum: 1, maximum: 500, default: 50 });

export const EventListQuery = t.Object({
  limit: t.Optional(Limit),
  before: t.Optional(t.String({ maxLength: 64 })),
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  instanceId: t.Optional(t.String({ maxLength: 1024 })),
  action: t.Optional(t.String({ maxLength: 1024 })),
  test: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
});

export const RejectListQuery = t.Object({
  limit: t.Optional(Limit),
  before: t.Optional(t.String({ maxLength: 64 })),
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  code: t.Optional(t.String({ maxLength: 64 })),
});
