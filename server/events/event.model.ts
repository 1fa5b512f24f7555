/**
 * The internal event format: what the store keeps, what sinks receive and what the admin API
 * returns. camelCase, as the Event Specification asks. docs/event-format.md documents it field by field.
 */
import { Type, type Static } from "@sinclair/typebox";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const EventContextSchema = Type.Object({
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  origin: Nullable(Type.String()),
  referer: Nullable(Type.String()),
  /** Who sent it: a vendor's server, a browser, or trackd itself (an erasure record). */
  source: Type.Union([Type.Literal("server"), Type.Literal("browser"), Type.Literal("trackd")]),
  /**
   * How a server event proved its sender, on trackers that ask (serverAuth): verified, or,
   * where the tracker flags rather than refuses, unverified with the refusal's code. An
   * unverified event is never a lead or a stage (journey/lead-rule.ts).
   */
  auth: Type.Optional(
    Type.Object({
      method: Type.Union([Type.Literal("hmac"), Type.Literal("bearer")]),
      verified: Type.Boolean(),
      problem: Type.Optional(Type.String()),
    }),
  ),
  /**
   * The shopper's consent (events/consent.ts): as the event's `consent` field said, and
   * `Sec-GPC: 1` as ads denied (`gpc`).
   */
  consent: Type.Optional(
    Type.Object({
      analytics: Type.Optional(Type.Union([Type.Literal("granted"), Type.Literal("denied")])),
      ads: Type.Optional(Type.Union([Type.Literal("granted"), Type.Literal("denied")])),
      gpc: Type.Optional(Type.Literal(true)),
    }),
  ),
  /**
   * Some identifier the event carried was erased on request (store/suppressions.ts): its field
   * was left out, it links to nothing by it, and its customer was not kept.
   */
  suppressed: Type.Optional(Type.Literal(true)),
  /**
   * A browser event from a bot (ingest/bots.ts): why (`webdriver`: the browser says it is
   * automated; `headless`: a headless browser's user agent; `crawler`: a user agent on the
   * isbot list, `match` the part that matched), and whether it is kept out of journeys.
   */
  bot: Type.Optional(
    Type.Object({
      reason: Type.Union([
        Type.Literal("webdriver"),
        Type.Literal("headless"),
        Type.Literal("crawler"),
      ]),
      match: Type.Optional(Type.String()),
      excluded: Type.Boolean(),
    }),
  ),
});

export const RegistryFlagsSchema = Type.Object({
  account: Type.Boolean(),
  tracker: Type.Boolean(),
  vendor: Type.Boolean(),
});

/** The stored format, field by field (the tests check every event they store against it). */
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

/** One event as stored: its ID and its JSON text, exactly what every sink delivers. */
export interface DeliveryItem {
  eventId: string;
  json: string;
}

/**
 * True for a test event (oa_track=false), read from the stored JSON without parsing it.
 * `test` is the second-to-last field of the format and nothing after it (`registry`, with
 * fixed boolean keys) contains `,"test":`, so its last occurrence is the top-level one.
 */
export function isTestEventJson(json: string): boolean {
  const at = json.lastIndexOf(',"test":');
  return at >= 0 && json.startsWith("true", at + 8);
}
