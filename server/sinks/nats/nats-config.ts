/** The NATS JetStream sink's configuration (an entry of `sinks` with kind "nats"). */
import { type Static, Type } from "@sinclair/typebox";
import { deliverySchema, type SinkKind, sinkBase } from "../sink-config.ts";
import { NatsSink } from "./nats-sink.ts";

/**
 * JetStream's batches are larger: each batch ends with the publish pipeline draining and a
 * cursor commit, which at 500 events cost about a fifth of the drain rate.
 */
const NatsDeliverySchema = deliverySchema({ maxEvents: 5000, maxBytes: 8 * 1024 * 1024 });

export const NatsSinkSchema = Type.Object(
  {
    kind: Type.Literal("nats"),
    ...sinkBase,
    delivery: NatsDeliverySchema,
    servers: Type.Array(Type.String(), { minItems: 1, default: ["127.0.0.1:4222"] }),
    subject: Type.String({
      default: "trackd.events.{accountId}.{trackerId}",
      description: "Subject template: {accountId} and {trackerId} are replaced.",
    }),
    stream: Type.String({
      default: "TRACKD",
      description: "The JetStream stream that must capture the subjects.",
    }),
    createStream: Type.Boolean({
      default: false,
      description:
        "Create the stream, capturing the subject template with * for each placeholder (trackd.events.*.* by default), if it does not exist.",
    }),
    duplicateWindowSeconds: Type.Integer({
      minimum: 1,
      default: 86400,
      description: "Deduplication window of a stream trackd creates.",
    }),
    timeoutMs: Type.Integer({ minimum: 1, default: 10000 }),
    user: Type.Optional(Type.String()),
    pass: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type NatsSinkConfig = Static<typeof NatsSinkSchema>;

export const natsSinkKind: SinkKind<typeof NatsSinkSchema> = {
  kind: "nats",
  schema: NatsSinkSchema,
  create: (c) => new NatsSink(c),
};
