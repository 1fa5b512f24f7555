/**
 * Every kind of sink trackd can deliver to. Adding one touches its own folder (its code, its
 * schema and SinkKind) and this list; the configuration schema, the config loader and
 * delivery all read it from here (Vector's sinks are the model).
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { adfSinkKind } from "./adf/adf-config.ts";
import { fileSinkKind } from "./file/file-config.ts";
import { natsSinkKind } from "./nats/nats-config.ts";
import { stdoutSinkKind } from "./stdout/stdout-config.ts";
import type { SinkKind } from "./sink-config.ts";
import type { Sink, SinkContext } from "./types.ts";
import { withCustomer } from "./with-customer.ts";
import { webhookSinkKind } from "./webhook/webhook-config.ts";

export const SINK_KINDS = [
  fileSinkKind,
  webhookSinkKind,
  natsSinkKind,
  stdoutSinkKind,
  adfSinkKind,
] as const;

type SchemaOf<K> = K extends SinkKind<infer S> ? S : never;

/** An entry of `sinks`, as one of the kinds' schemas has it. */
export type SinkConfig = Static<SchemaOf<(typeof SINK_KINDS)[number]>>;

/** The schema of an entry of `sinks`: one of the kinds'. */
export const SinkConfigSchema = Type.Union(
  SINK_KINDS.map((k) => k.schema),
) as unknown as TSchema & {
  static: SinkConfig;
};

/** One sink per configured entry (one with includeCustomer gets leads' customers opened). */
export function createSinks(configs: SinkConfig[], dataDir: string, context: SinkContext): Sink[] {
  return configs.map((c) => {
    const kind = SINK_KINDS.find((k) => k.kind === c.kind)!;
    const sink = kind.create(c as never, dataDir, context);
    return "includeCustomer" in c && c.includeCustomer
      ? withCustomer(sink, context.customer)
      : sink;
  });
}
