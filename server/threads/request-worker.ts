/**
 * A request thread of `workers`: the collect side (collect routes, the SDK, /metrics, health)
 * served on the main thread's port with SO_REUSEPORT, so the kernel spreads connections over
 * the threads. Events go straight to the one event writer thread through a port of their own
 * (the writer makes their IDs, in commit order); what the main thread keeps for the whole
 * process (tracker counters, the reject log, delivery's wake-up, the live stream, metrics) it
 * is told: stored events and refusals once per event-loop turn, counters every second and on
 * each scrape. The registry is read from the store and read again when the main thread says
 * it changed; storage-full and shutting-down follow the main thread's word.
 */
import { setImmediate } from "node:timers";
import { open, type RootDatabase } from "lmdb";
import { createCollectApp } from "../app.ts";
import { RateLimits } from "../ingest/rate-limit.ts";
import { Registry } from "../registry/registry.ts";
import { type Listener, type Runtime, TRANSPORT_BODY_CAP } from "../runtime/runtime.ts";
import { ClientIds } from "../store/client-ids.ts";
import { canWrite } from "../store/open-store.ts";
import { EventWriter } from "../store/event-writer.ts";
import { EVENT_DBS, EventStore, type StoredElsewhere } from "../store/event-store.ts";
import { LinkIndex } from "../store/link-index.ts";
import { RegistryStore } from "../store/registry-store.ts";
import type { RejectRecord } from "../store/reject-log.ts";
import { createLog } from "../telemetry/log.ts";
import { Metrics } from "../telemetry/metrics.ts";
import {
  COUNTERS_EVERY_MS,
  type FromRequests,
  SharedFlags,
  type ToRequests,
} from "./request-protocol.ts";

declare const self: Worker;

const send = (message: FromRequests) => postMessage(message);

/** How long a scrape on this thread waits for the main thread's whole text. */
const SCRAPE_TIMEOUT_MS = 3000;

/** Serves the collect side on this thread once the main thread says how (the "start" message). */
export function serveRequests(runtime: Runtime): void {
  let root: RootDatabase | null = null;
  let listener: Listener | null = null;
  let writer: EventWriter | null = null;
  let registry: Registry | null = null;
  let flags = new SharedFlags();
  let stopping = false;
  const metrics = new Metrics();
  const scrapes = new Map<number, (text: string) => void>();
  let nextScrape = 0;
  let stored: StoredElsewhere[] = [];
  let rejected: { record: Omit<RejectRecord, "id">; idsValid: boolean }[] = [];
  let noting = false;

  /** Stored events and refusals go to the main thread once per event-loop turn. */
  const note = () => {
    if (noting) return;
    noting = true;
    setImmediate(() => {
      noting = false;
      if (stored.length > 0) send({ kind: "stored", events: stored });
      if (rejected.length > 0) send({ kind: "rejected", records: rejected });
      stored = [];
      rejected = [];
    });
  };

  function start(message: Extract<ToRequests, { kind: "start" }>): void {
    const { config } = message;
    flags = new SharedFlags(message.flags);
    const log = createLog(config.logLevel, undefined, message.journal);
    const env = open(message.envOptions);
    root = env;
    const renewReads = () => env.resetReadTxn();
    writer = EventWriter.connect(message.writerPort, renewReads);
    const events = new EventStore(
      env.openDB<string, string>({ name: EVENT_DBS.events, encoding: "string" }),
      new LinkIndex(
        env.openDB({ name: EVENT_DBS.links, keyEncoding: "binary", encoding: "string" }),
      ),
      // The main thread counts this thread's events (the "stored" notes), in one place.
      { record() {}, countActivity() {} },
      writer,
      renewReads,
    );
    events.onEvent((event) => {
      stored.push({
        eventId: event.eventId,
        accountId: event.accountId,
        trackerId: event.trackerId,
        test: event.test,
        receivedAt: event.receivedAt,
        receivedMs: Date.parse(event.receivedAt),
      });
      note();
    });
    // The main thread seeded the registry from the config file; this one only reads it.
    registry = new Registry(new RegistryStore(env), {
      ...config.registry,
      accounts: [],
      trackers: [],
      vendors: [],
    });
    const meta = env.openDB<unknown, string>({ name: "meta" });
    const { forwardTo } = message;
    const forwarding =
      forwardTo && runtime.forward
        ? {
            paths: runtime.adminPagePaths?.() ?? [],
            forward: (request: Request, server: unknown) =>
              runtime.forward!(request, server, forwardTo),
          }
        : null;
    const app = createCollectApp(
      {
        config,
        events,
        rejects: {
          record(record, idsValid) {
            rejected.push({ record, idsValid });
            note();
          },
        },
        clientIds: new ClientIds(env, config.dedupeWindowSeconds * 1000),
        registry,
        rateLimits: new RateLimits(config.rateLimits, message.rateLimits),
        log,
        metrics,
        now: Date.now,
        draining: () => stopping || flags.draining,
        storageFull: () => flags.storageFull,
        peerAddress: runtime.peerAddress,
        writable: () => canWrite(meta),
        renderMetrics: () =>
          new Promise<string>((resolve) => {
            const id = ++nextScrape;
            // A main thread that does not answer in time: this thread's own counters, not a hang.
            const timer = setTimeout(() => {
              scrapes.delete(id);
              resolve(metrics.render());
            }, SCRAPE_TIMEOUT_MS);
            scrapes.set(id, (text) => {
              clearTimeout(timer);
              resolve(text);
            });
            send({ kind: "metrics", id, counters: metrics.collectCounters() });
          }),
      },
      forwarding,
    );
    listener = runtime.serve(app, {
      hostname: config.host,
      port: message.port,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      maxRequestBodySize: TRANSPORT_BODY_CAP,
      tls: message.tls,
      shared: true,
    });
    setInterval(
      () => send({ kind: "counters", counters: metrics.collectCounters() }),
      COUNTERS_EVERY_MS,
    );
    send({ kind: "listening" });
  }

  async function stop(): Promise<void> {
    stopping = true;
    // Stops accepting; the requests in flight are answered (their events committed) first.
    await listener?.stop(false);
    await writer?.close();
    await new Promise((r) => setImmediate(r)); // the last notes go out
    send({ kind: "counters", counters: metrics.collectCounters() });
    await root?.close();
    send({ kind: "stopped" });
  }

  self.onmessage = async (e: MessageEvent<ToRequests>) => {
    const message = e.data;
    switch (message.kind) {
      case "start":
        try {
          start(message);
        } catch (err) {
          send({ kind: "failed", error: err instanceof Error ? err.message : String(err) });
        }
        return;
      case "registry":
        root?.resetReadTxn();
        registry?.reload();
        return;
      case "tls":
        try {
          await listener?.reloadTls(message.tls);
          send({ kind: "tls-reloaded", error: null });
        } catch (err) {
          send({ kind: "tls-reloaded", error: err instanceof Error ? err.message : String(err) });
        }
        return;
      case "writer-failed":
        writer?.fail(new Error(message.error));
        return;
      case "metrics":
        scrapes.get(message.id)?.(message.text);
        scrapes.delete(message.id);
        return;
      case "stop":
        await stop();
        return;
    }
  };
  send({ kind: "ready" });
}
