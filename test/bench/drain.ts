/**
 * How fast the flusher drains a backlog: stores `--events` events (relaxed, to build the
 * backlog quickly), then starts a flusher with one sink (a file sink, or NATS JetStream when
 * `natsUrl` is given) and times how long until it has taken them all.
 *
 *   bun test/bench/drain.ts [--events 200000] [--batches 500,5000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SinkLoops } from "../../server/delivery/sink-loops.ts";
import { FileSink } from "../../server/sinks/file/file-sink.ts";
import { openStore } from "../../server/store/open-store.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { Metrics } from "../../server/telemetry/metrics.ts";
import { NatsSink } from "../../server/sinks/nats/nats-sink.ts";
import { buildBacklog } from "./backlog.ts";

/** Events per second drained into a file sink with batches of `maxEvents`. */
export async function drainRate(
  events: number,
  maxEvents: number,
  natsUrl?: string,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "trackd-drain-"));
  await buildBacklog(dir, events);
  const store = openStore({ dataDir: dir, durability: "relaxed", rejectLogSize: 10 });
  const sink = natsUrl
    ? new NatsSink({
        name: "files",
        servers: [natsUrl],
        subject: `bench${Date.now()}.{accountId}.{trackerId}`,
        stream: `BENCH${Date.now()}`,
        createStream: true,
        duplicateWindowSeconds: 120,
        timeoutMs: 10000,
      })
    : new FileSink({ name: "files", dir: join(dir, "events"), maxFileBytes: 1 << 30 });
  const flusher = new SinkLoops(
    [
      {
        sink,
        delivery: {
          maxEvents,
          maxBytes: 64 << 20,
          lingerMs: 0,
          retryInitialMs: 100,
          retryMaxMs: 1000,
        },
      },
    ],
    {
      events: store.events,
      delivery: store.delivery,
      metrics: new Metrics(),
      log: createLog("error"),
      now: Date.now,
    },
  );
  const started = performance.now();
  flusher.start();
  while (store.delivery.cursorOf("files").delivered < events) await Bun.sleep(10);
  const seconds = (performance.now() - started) / 1000;
  await flusher.stop(1000);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return events / seconds;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "200000" },
      batches: { type: "string", default: "500,5000" },
    },
  });
  const total = Number(values.events);
  console.log(`flusher drain into the file sink, ${total} stored events:`);
  for (const batch of values.batches!.split(",").map(Number))
    console.log(
      `  batch ${String(batch).padStart(5)}: ${Math.round(await drainRate(total, batch))} events/s`,
    );
}
