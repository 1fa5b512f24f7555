/**
 * The internal event format: what the store keeps, what sinks receive and what the admin API
 * returns. camelCase, as the Event Specification asks. The README documents it field by field.
 */
import { Type, type Static } from "@sinclair/typebox";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const EventContextSchema = Type.Object({
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  origin: Nullable(Type.String()),
  referer: Nullable(Type.String()),
  source: Type.Union([Type.Literal("server"), Type.Literal("browser")]),
});

export const RegistryFlagsSchema = Type.Object({
  account: Type.Boolean(),
  tracker: Type.Boolean(),
  vendor: Type.Boolean(),
});

export const TrackedEventSchema = Type.Object({
  eventId: Type.String({ format: "uuid" }),
  clientEventId: Type.Optional(Type.String({ format: "uuid" })),
  receivedAt: Type.String({ format: "date-time" }),
  occurredAt: Type.String({ format: "date-time" }),
  accountId: Type.String(),
  trackerId: Type.String(),
  action: Type.String(),
  actionType: Type.Union([Type.Literal("standard"), Type.Literal("custom")]),
  object: Type.String(),
  vendor: Type.String(),
  product: Type.String(),
  instanceId: Type.String(),
  label: Type.Optional(Type.String()),
  score: Type.Optional(Type.Number()),
  properties: Type.Record(Type.String(), Type.Unknown()),
  context: EventContextSchema,
  test: Type.Boolean(),
  registry: RegistryFlagsSchema,
});

export type TrackedEvent = Static<typeof TrackedEventSchema>;
export type EventContext = Static<typeof EventContextSchema>;
export type RegistryFlags = Static<typeof RegistryFlagsSchema>;

/** A note that does not stop the event, shown by `oa_debug=true`. */
export interface Warning {
  path: string;
  code: string;
  message: string;
}
