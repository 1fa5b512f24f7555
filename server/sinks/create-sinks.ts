/** Builds the configured sinks: the only place that knows every kind. */
import { join, resolve } from "node:path";
import type { SinkConfig } from "../config/schema.ts";
import { FileSink } from "./file/file-sink.ts";
import { NatsSink } from "./nats/nats-sink.ts";
import { StdoutSink } from "./stdout/stdout-sink.ts";
import type { Sink } from "./types.ts";
import { WebhookSink } from "./webhook/webhook-sink.ts";

/** One sink per configured entry; file sinks default to `<dataDir>/events`. */
export function createSinks(configs: SinkConfig[], dataDir: string): Sink[] {
  return configs.map((c): Sink => {
    switch (c.kind) {
      case "file":
        return new FileSink({
          name: c.name,
          dir: c.dir ? resolve(c.dir) : join(dataDir, "events"),
          maxFileBytes: c.maxFileBytes,
          minFreeBytes: c.minFreeBytes,
        });
      case "webhook":
        return new WebhookSink(c);
      case "nats":
        return new NatsSink(c);
      case "stdout":
        return new StdoutSink(c.name);
    }
  });
}
