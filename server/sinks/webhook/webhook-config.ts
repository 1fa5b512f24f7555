/** The webhook sink's configuration (an entry of `sinks` with kind "webhook"). */
import { type Static, Type } from "@sinclair/typebox";
import { type SinkKind, sinkBase } from "../sink-config.ts";
import { WebhookSink } from "./webhook-sink.ts";

export const WebhookSinkSchema = Type.Object(
  {
    kind: Type.Literal("webhook"),
    ...sinkBase,
    url: Type.String({
      pattern: "^https?://",
      patternMessage: "an http:// or https:// URL",
      description: "Where batches are POSTed.",
    }),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "Extra request headers.",
    }),
    timeoutMs: Type.Integer({ minimum: 1, default: 10000 }),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Shared secret for the X-Trackd-Signature HMAC-SHA256 header.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type WebhookSinkConfig = Static<typeof WebhookSinkSchema>;

export const webhookSinkKind: SinkKind<typeof WebhookSinkSchema> = {
  kind: "webhook",
  schema: WebhookSinkSchema,
  create: (c) => new WebhookSink(c),
};
