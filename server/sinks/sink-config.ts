/**
 * What every sink's configuration has (a name, how delivery batches and retries for it), and
 * what a kind of sink is: its schema, and how one is built from its configuration. Each sink
 * folder defines its kind beside its code; kinds.ts lists them.
 */
import { type Static, type TObject, Type } from "@sinclair/typebox";
import type { Sink, SinkContext } from "./types.ts";

export const Name = Type.String({
  pattern: "^[a-z0-9][a-z0-9_-]{0,62}$",
  patternMessage:
    "a sink name: lower-case letters, digits, - and _, starting with a letter or digit, at most 63",
  description: "Operator-chosen sink name: lowercase letters, digits, - and _.",
});

/** How delivery batches and retries for one sink, with the batch size defaults of its kind. */
export const deliverySchema = (batch: { maxEvents: number; maxBytes: number }) =>
  Type.Object(
    {
      maxEvents: Type.Integer({
        minimum: 1,
        maximum: 100000,
        default: batch.maxEvents,
        description: "Most events in one batch.",
      }),
      maxBytes: Type.Integer({
        minimum: 1024,
        default: batch.maxBytes,
        description: "Most bytes of event JSON in one batch.",
      }),
      lingerMs: Type.Integer({
        minimum: 0,
        default: 20,
        description: "How long to wait for a batch to fill once an event is waiting.",
      }),
      retryInitialMs: Type.Integer({
        minimum: 1,
        default: 500,
        description: "First retry delay; doubles each attempt, with jitter.",
      }),
      retryMaxMs: Type.Integer({ minimum: 1, default: 60000, description: "Longest retry delay." }),
    },
    { additionalProperties: false, default: {} },
  );

export const DeliverySchema = deliverySchema({ maxEvents: 500, maxBytes: 1024 * 1024 });

export const sinkBase = {
  name: Name,
  delivery: DeliverySchema,
  includeCustomer: Type.Boolean({
    default: false,
    description:
      "Send leads' customers (name, e-mail, phone, address) to this sink in the clear; by default it gets the marker and hashes only.",
  }),
};

export type DeliveryConfig = Static<typeof DeliverySchema>;

/** A kind of sink: the schema of its entries in `sinks`, and how one is built from an entry. */
export interface SinkKind<S extends TObject> {
  kind: string;
  schema: S;
  create(config: Static<S>, dataDir: string, context: SinkContext): Sink;
}
