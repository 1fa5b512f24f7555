/**
 * Delivery in its own thread, as the server runs it: events posted to the app reach a real
 * file sink and a real webhook receiver through the delivery thread; the thread killed mid-
 * stream is started again and every acknowledged event still arrives, in order per sink;
 * the admin API's view (where an event is, sink reports, metrics) comes across the thread.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../../server/app.ts";
import { DeliveryThread } from "../../server/delivery/delivery-thread.ts";
import { openStore, type Store } from "../../server/store/open-store.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { Metrics } from "../../server/telemetry/metrics.ts";
import { waitFor } from "../helpers/ports.ts";
import { startReceiver, type Receiver } from "../helpers/receiver.ts";
import { ADMIN_TOKEN, BASE, tempDir, testConfig, validEvent } from "../helpers/test-app.ts";

let store: Store;
let thread: DeliveryThread;
let app: ReturnType<typeof createApp>;
let receiver: Receiver;
const logged: string[] = [];
const dir = tempDir("trackd-delivery-thread-");
const acked: string[] = [];

async function post(n: number, from: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const res = await app.handle(
      new Request(`${BASE}/collect/1/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validEvent({ instance_id: `thread-${i}` })),
      }),
    );
    expect(res.status).toBe(204);
    acked.push(res.headers.get("x-event-id")!);
  }
}

/** Event IDs in the file sink's files, in file and line order; a line still being written is not one yet. */
function filed(): string[] {
  const out = join(dir, "events");
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .sort()
    .flatMap((f) => readFileSync(join(out, f), "utf8").split("\n").slice(0, -1).filter(Boolean))
    .map((line) => (JSON.parse(line) as { eventId: string }).eventId);
}

beforeAll(async () => {
  receiver = startReceiver();
  const sinks = [
    { kind: "file", name: "files", delivery: { maxEvents: 20, lingerMs: 0 } },
    { kind: "webhook", name: "hook", url: receiver.url, delivery: { maxEvents: 20, lingerMs: 0 } },
  ];
  const config = testConfig({ dataDir: dir, sinks });
  store = openStore({ dataDir: dir, durability: "durable", rejectLogSize: 100 });
  const metrics = new Metrics();
  const log = createLog("warn", (line) => void logged.push(line));
  thread = new DeliveryThread({
    envOptions: store.envOptions,
    sinks: config.sinks,
    dataDir: dir,
    logLevel: "warn",
    journal: false,
    events: store.events,
    delivery: store.delivery,
    metrics,
    log,
    now: Date.now,
  });
  app = createApp({ config, store, adminToken: ADMIN_TOKEN, log, metrics, delivery: thread });
  thread.start();
});

afterAll(async () => {
  await thread.stop(1000);
  await store.close();
  await receiver.stop();
});

const admin = (path: string) =>
  app.handle(
    new Request(`${BASE}/admin/api${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
  );

describe("the delivery thread", () => {
  test("delivers every event to both sinks, and reports through the admin API", async () => {
    await post(50, 0);
    await waitFor("both sinks", () => filed().length >= 50 && receiver.eventIds().length >= 50);
    expect(filed()).toEqual(acked);
    expect(receiver.eventIds()).toEqual(acked);
    await waitFor("the state report", async () => {
      const { sinks } = (await (await admin("/sinks")).json()) as {
        sinks: { name: string; delivered: number; lag: { events: number } }[];
      };
      return sinks.every((s) => s.delivered === 50 && s.lag.events === 0);
    });
    const where = (await (await admin(`/events/${acked[10]}`)).json()) as {
      delivery: { sink: string; status: string }[];
    };
    expect(where.delivery).toEqual([
      { sink: "files", status: "delivered" },
      { sink: "hook", status: "delivered" },
    ]);
    const metrics = await (await app.handle(new Request(`${BASE}/metrics`))).text();
    expect(metrics).toContain('trackd_sink_delivered_total{sink="files"} 50');
    expect(metrics).toContain('trackd_sink_delivered_total{sink="hook"} 50');
    expect(thread.minCursor()).toBe(acked[49]!);
  });

  test("killed mid-stream, it is started again and every acknowledged event arrives, in order", async () => {
    const posting = post(300, 50);
    await waitFor("some of the stream delivered", () => receiver.eventIds().length > 80);
    thread.kill();
    await posting;
    await waitFor("the thread started again", () => thread.starts === 2);
    await waitFor(
      "every event in both sinks",
      () => {
        const inFiles = new Set(filed());
        const atHook = new Set(receiver.eventIds());
        return acked.every((id) => inFiles.has(id) && atHook.has(id));
      },
      30000,
    );
    // At least once, in order: a batch in flight at the kill may come again, never out of order.
    const firstSeen = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) === i);
    expect(firstSeen(filed())).toEqual(acked);
    expect(firstSeen(receiver.eventIds())).toEqual(acked);
    expect(logged.some((l) => l.includes('"msg":"delivery thread ended; starting it again"'))).toBe(
      true,
    );
  }, 60000);
});
