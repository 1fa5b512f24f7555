/** The app with a real store, a flusher over given sinks and retention, all in-process. */
import { rmSync } from "node:fs";
import { createApp } from "../../server/app.ts";
import { SinkLoops } from "../../server/delivery/sink-loops.ts";
import { openStore, type Store } from "../../server/store/open-store.ts";
import { Retention } from "../../server/store/retention.ts";
import type { Sink } from "../../server/sinks/types.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { Metrics } from "../../server/telemetry/metrics.ts";
import { ADMIN_TOKEN, BASE, tempDir, testConfig, validEvent } from "./test-app.ts";

export interface DeliveryApp {
  app: ReturnType<typeof createApp>;
  store: Store;
  flusher: SinkLoops;
  retention: Retention;
  dir: string;
  /** The error lines logged (captured, not printed: a test asserts those it expects). */
  logs: string[];
  post(body?: Record<string, unknown>, query?: string): Promise<Response>;
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the flusher and closes the store, keeping the directory (for restarts). */
  stop(graceMs?: number): Promise<void>;
  /** stop() and remove the directory. */
  destroy(): Promise<void>;
}

export const FAST_DELIVERY = {
  maxEvents: 100,
  maxBytes: 1 << 20,
  lingerMs: 0,
  retryInitialMs: 20,
  retryMaxMs: 200,
};

export async function createDeliveryApp(
  sinks: Sink[],
  options: {
    dir?: string;
    retentionSeconds?: number;
    storageMaxBytes?: number;
    delivery?: Partial<typeof FAST_DELIVERY>;
    now?: () => number;
    paused?: boolean;
  } = {},
): Promise<DeliveryApp> {
  const dir = options.dir ?? tempDir();
  const config = testConfig({
    dataDir: dir,
    retentionSeconds: options.retentionSeconds ?? 604800,
    storageMaxBytes: options.storageMaxBytes ?? 0,
  });
  const store = openStore({ dataDir: dir, durability: "durable", rejectLogSize: 100 });
  const logs: string[] = [];
  const log = createLog("error", (line) => logs.push(line));
  const metrics = new Metrics();
  const now = options.now ?? Date.now;
  const flusher = new SinkLoops(
    sinks.map((sink) => ({ sink, delivery: { ...FAST_DELIVERY, ...options.delivery } })),
    { events: store.events, delivery: store.delivery, metrics, log, now },
  );
  const retention = new Retention(store, {
    retentionMs: config.retentionSeconds * 1000,
    lookbackMs: config.attribution.lookbackDays * 86_400_000,
    capBytes: config.storageMaxBytes,
    minCursor: () => flusher.minCursor(),
    log,
    now,
    checkMs: 50,
    sweepMs: 200,
  });
  const app = createApp({
    config,
    store,
    adminToken: ADMIN_TOKEN,
    log,
    metrics,
    delivery: flusher,
    storageFull: () => retention.fullReason(),
    now,
  });
  if (!options.paused) flusher.start(); // paused: the test stores events first, then calls flusher.start()
  retention.start();
  let stopped = false;
  const stop = async (graceMs = 1000) => {
    if (stopped) return;
    stopped = true;
    await flusher.stop(graceMs);
    await retention.stop();
    await store.close();
  };
  return {
    app,
    store,
    flusher,
    retention,
    dir,
    logs,
    post: (body = validEvent(), query = "") =>
      app.handle(
        new Request(`${BASE}/collect/1/1/event${query}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      ),
    admin: (path, init = {}) =>
      app.handle(
        new Request(`${BASE}/admin/api${path}`, {
          ...init,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers ?? {}) },
        }),
      ),
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Posts `n` events with instance IDs `${prefix}-${i}`; returns their event IDs in order. */
export async function postMany(
  d: DeliveryApp,
  n: number,
  prefix: string,
  query = "",
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await d.post(validEvent({ instance_id: `${prefix}-${i}` }), query);
    if (res.status !== 204) throw new Error(`post ${i}: ${res.status} ${await res.text()}`);
    ids.push(res.headers.get("x-event-id")!);
  }
  return ids;
}
