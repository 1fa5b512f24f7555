/**
 * `workers`: several request threads on one port, in the real binary. Connections land on
 * any thread (SO_REUSEPORT), so every check here uses a fresh connection per request and
 * runs many of them: events from all threads are stored with IDs in commit order (the file
 * sink's order is ID order), a client event ID sent on many connections at once is stored
 * once, the admin page and API answer on every connection (forwarded to the main thread),
 * a registry change reaches every thread, /metrics and the tracker counters count every
 * thread's events, SIGTERM answers what is in flight and kill -9 loses nothing acknowledged.
 * A request thread killed alone (in-process) is started again and serves.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createCollectApp } from "../../server/app.ts";
import { loadConfig } from "../../server/config/load.ts";
import { RateLimits } from "../../server/ingest/rate-limit.ts";
import { Registry } from "../../server/registry/registry.ts";
import {
  RequestThreads,
  type RequestThreadsOptions,
} from "../../server/threads/request-threads.ts";
import { openStore, type Store } from "../../server/store/open-store.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { Metrics } from "../../server/telemetry/metrics.ts";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { instanceId, pathId } from "../helpers/ids.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { tempDir, testConfig, validEvent } from "../helpers/test-app.ts";

afterAll(killAll);

const ACCOUNT = "7c9e6679-7425-40de-944b-e07fc1f0d7a1";
const TRACKER = "1";

/** POSTs one event on a connection of its own; resolves with the status and the event ID. */
async function post(
  url: string,
  body: Record<string, unknown>,
  tracker = TRACKER,
): Promise<{ status: number; eventId: string | null; duplicate: boolean }> {
  const res = await fetch(`${url}/collect/${ACCOUNT}/${tracker}/event`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return {
    status: res.status,
    eventId: res.headers.get("x-event-id"),
    duplicate: res.headers.get("x-duplicate") === "true",
  };
}

/** Runs `n` calls, `concurrency` at a time. */
async function many<T>(n: number, concurrency: number, call: (i: number) => Promise<T>) {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await call(i);
      }
    }),
  );
  return out;
}

/** Event IDs in the file sink's files, in file and line order; a line still being written is not one yet. */
function filed(dataDir: string): string[] {
  const dir = join(dataDir, "events");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").slice(0, -1).filter(Boolean))
    .map((line) => (JSON.parse(line) as { eventId: string }).eventId);
}

/** The listening sockets on a port (one per request thread). */
function listeners(port: number): number {
  const out = Bun.spawnSync(["ss", "-Hltn", `sport = :${port}`]).stdout.toString();
  return out.split("\n").filter((l) => l.includes("LISTEN")).length;
}

describe("request threads (workers: 3, the binary)", () => {
  let trackd: Running;
  let dataDir: string;

  test("three threads listen, and events from all of them are stored in commit order", async () => {
    await buildBinary();
    const { dir, binary } = await binaryInEmptyDir();
    dataDir = join(dir, "data");
    trackd = await startBinary(binary, dir, ["--data-dir", dataDir, "--workers", "3"]);
    expect(trackd.logs()).toContain('"requestThreads":3');
    expect(listeners(trackd.port)).toBe(3);

    const results = await many(600, 24, (i) =>
      post(trackd.url, validEvent({ instance_id: `${crypto.randomUUID()}-${i}` })),
    );
    expect(results.every((r) => r.status === 204)).toBe(true);
    const acked = results.map((r) => r.eventId!);
    expect(new Set(acked).size).toBe(600);
    // The file sink delivers in cursor (key) order: with IDs made at commit, that is every
    // acknowledged event, sorted, however the threads interleaved.
    await waitFor("every event filed", () => filed(dataDir).length >= 600);
    const delivered = filed(dataDir);
    expect(delivered).toEqual([...acked].sort());
  });

  test("one client event ID sent on 24 connections at once is stored once", async () => {
    const clientId = crypto.randomUUID();
    const results = await many(24, 24, () =>
      post(trackd.url, validEvent({ eventId: clientId, instance_id: "twin" })),
    );
    expect(results.every((r) => r.status === 204)).toBe(true);
    expect(new Set(results.map((r) => r.eventId)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const res = await fetch(
      `${trackd.url}/admin/api/events?accountId=${ACCOUNT}&instanceId=twin&limit=50`,
      { headers: { ...adminAuth, connection: "close" } },
    );
    expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(1);
  });

  test("the admin page and API answer on every connection, with the client's address", async () => {
    const pages = await many(24, 8, async () => {
      const res = await fetch(`${trackd.url}/admin`, { headers: { connection: "close" } });
      return { status: res.status, html: await res.text() };
    });
    expect(pages.every((p) => p.status === 200 && p.html.includes("<script"))).toBe(true);
    const logins = await many(12, 6, async () => {
      const res = await fetch(`${trackd.url}/admin/api/login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: trackd.url,
          connection: "close",
        },
        body: JSON.stringify({ token: adminAuth.authorization.slice("Bearer ".length) }),
      });
      return { status: res.status, cookie: res.headers.get("set-cookie") ?? "" };
    });
    expect(logins.every((l) => l.status === 204 && l.cookie.startsWith("trackd_session="))).toBe(
      true,
    );
    // Refusals from any thread reach the one reject log, with the address the client used.
    await many(12, 12, () => post(trackd.url, { action: "viewed" }));
    await waitFor(
      "the refusals in the reject log",
      async () => {
        const res = await fetch(`${trackd.url}/admin/api/rejects?limit=100`, {
          headers: { ...adminAuth, connection: "close" },
        });
        const { rejects } = (await res.json()) as { rejects: { ip: string }[] };
        return rejects.length >= 12 && rejects.every((r) => r.ip === "127.0.0.1");
      },
      5000,
    );
  });

  test("every thread's events are counted: /metrics and the tracker's counters", async () => {
    await many(60, 12, (i) => post(trackd.url, validEvent({ instance_id: `count-${i}` })));
    // Each thread sends its counters every second (and with a scrape it takes).
    await Bun.sleep(1200);
    const text = await (
      await fetch(`${trackd.url}/metrics`, { headers: { connection: "close" } })
    ).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)![1]);
    expect(value("trackd_events_stored_total")).toBe(600 + 1 + 60);
    expect(value("trackd_events_duplicate_total")).toBe(23);
    const res = await fetch(`${trackd.url}/admin/api/trackers`, {
      headers: { ...adminAuth, connection: "close" },
    });
    const { trackers } = (await res.json()) as {
      trackers: { accountId: string; accepted: number; rejected: number }[];
    };
    expect(trackers.find((t) => t.accountId === ACCOUNT)).toMatchObject({
      accepted: 661,
      rejected: 12,
    });
  });

  test("real IDs on any thread: UUID and 18-digit accounts, any Unicode instance ID up to the limit, read back in order", async () => {
    const posted = new Map<string, string[]>();
    await fc.assert(
      fc.asyncProperty(
        pathId,
        instanceId(256),
        fc.integer({ min: 1, max: 3 }),
        async (aid, id, n) => {
          const key = JSON.stringify([aid.toLowerCase(), id.trim()]);
          for (let i = 0; i < n; i++) {
            const res = await fetch(`${trackd.url}/collect/${aid}/1/event`, {
              method: "POST",
              headers: { "content-type": "application/json", connection: "close" },
              body: JSON.stringify(validEvent({ instance_id: id })),
            });
            expect(res.status).toBe(204);
            posted.set(key, [...(posted.get(key) ?? []), res.headers.get("x-event-id")!]);
          }
          // Read back on a connection of its own (forwarded to the main thread, or not).
          const res = await fetch(
            `${trackd.url}/admin/api/instances/${encodeURIComponent(aid.toLowerCase())}?instanceId=${encodeURIComponent(id.trim())}`,
            { headers: { ...adminAuth, connection: "close" } },
          );
          const { events } = (await res.json()) as { events: { eventId: string }[] };
          expect(events.map((e) => e.eventId)).toEqual(posted.get(key)!);
        },
      ),
      { numRuns: 60 },
    );
  }, 120000);

  test("Python's urllib, a connection per request, on every thread", async () => {
    const script = `
import json, sys, urllib.request
ids = []
for i in range(30):
    body = json.dumps({"action": "submit", "object": "lead", "vendor": "Chat", "product": "Pro",
                       "instance_id": "py-" + str(i) + "-\\u00e9\\U0001F600"}).encode()
    req = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        ids.append(res.headers["X-Event-Id"])
print(json.dumps(ids))
`;
    const run = Bun.spawnSync([
      "python3",
      "-c",
      script,
      `${trackd.url}/collect/${ACCOUNT}/${TRACKER}/event`,
    ]);
    expect(run.stderr.toString()).toBe("");
    const ids = JSON.parse(run.stdout.toString()) as string[];
    expect(new Set(ids).size).toBe(30);
    expect(ids).toEqual([...ids].sort()); // one client, one after another: IDs in that order
    for (const id of ids) {
      const res = await fetch(`${trackd.url}/admin/api/events/${id}`, {
        headers: { ...adminAuth, connection: "close" },
      });
      const { event } = (await res.json()) as { event: { instanceId: string } };
      expect(event.instanceId).toMatch(/^py-\d+-é😀$/);
    }
  });

  test("SIGTERM answers the requests in flight on every thread; all of them are stored", async () => {
    const load = many(400, 24, (i) =>
      post(trackd.url, validEvent({ instance_id: `term-${i}` })).catch(() => null),
    );
    await Bun.sleep(150);
    expect(await trackd.stop("SIGTERM")).toBe(0);
    const acked = (await load).filter((r) => r?.status === 204).map((r) => r!.eventId!);
    expect(acked.length).toBeGreaterThan(0);
    const { dir, binary } = await binaryInEmptyDir();
    const again = await startBinary(binary, dir, ["--data-dir", dataDir, "--workers", "3"]);
    for (const id of acked) {
      const res = await fetch(`${again.url}/admin/api/events/${id}`, {
        headers: { ...adminAuth, connection: "close" },
      });
      expect(res.status).toBe(200);
    }
    trackd = again;
  });

  test("kill -9 under load loses no acknowledged event", async () => {
    const acked: string[] = [];
    const load = many(3000, 24, async (i) => {
      const r = await post(trackd.url, validEvent({ instance_id: `kill-${i}` })).catch(() => null);
      if (r?.status === 204) acked.push(r.eventId!);
    });
    await waitFor("200 events acknowledged", () => acked.length >= 200);
    trackd.proc.kill("SIGKILL");
    await trackd.proc.exited;
    await load;
    const { dir, binary } = await binaryInEmptyDir();
    trackd = await startBinary(binary, dir, ["--data-dir", dataDir, "--workers", "3"]);
    const missing: string[] = [];
    for (const id of acked) {
      const res = await fetch(`${trackd.url}/admin/api/events/${id}`, { headers: adminAuth });
      if (res.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
  });

  test("a registry change reaches every thread (unknown IDs refused)", async () => {
    await trackd.stop("SIGTERM");
    const { dir, binary } = await binaryInEmptyDir();
    trackd = await startBinary(binary, dir, [
      "--data-dir",
      dataDir,
      "--workers",
      "3",
      "--registry.unknown-ids",
      "reject",
    ]);
    const tracker = "424242";
    const before = await many(24, 12, () => post(trackd.url, validEvent(), tracker));
    expect(before.every((r) => r.status === 400)).toBe(true);
    const put = (path: string, body: unknown) =>
      fetch(`${trackd.url}/admin/api/registry/${path}`, {
        method: "PUT",
        headers: { ...adminAuth, "content-type": "application/json", origin: trackd.url },
        body: JSON.stringify(body),
      });
    expect((await put(`accounts/${ACCOUNT}`, { name: "Threads Motors" })).status).toBe(200);
    expect((await put(`trackers/${ACCOUNT}/${tracker}`, { name: "site" })).status).toBe(200);
    await Bun.sleep(100); // the change is broadcast once stored
    const after = await many(24, 12, () => post(trackd.url, validEvent(), tracker));
    expect(after.map((r) => r.status)).toEqual(new Array(24).fill(204));
    await trackd.stop("SIGTERM");
  });
});

describe("request threads (workers: 3) and rate limits", () => {
  test("a client's limit is the same whichever thread its connections land on", async () => {
    await buildBinary();
    const { dir, binary } = await binaryInEmptyDir();
    const trackd = await startBinary(binary, dir, [
      "--data-dir",
      join(dir, "data"),
      "--workers",
      "3",
      "--rate-limits.per-ip.rate-per-second",
      "1",
      "--rate-limits.per-ip.burst",
      "20",
    ]);
    const results = await many(90, 18, (i) =>
      post(trackd.url, validEvent({ instance_id: `rl-${i}` })),
    );
    const accepted = results.filter((r) => r.status === 204).length;
    // The burst, and at most a token or two more refilled while the requests ran (were the
    // buckets per thread, up to three bursts would pass).
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(23);
    expect(results.filter((r) => r.status === 429)).toHaveLength(90 - accepted);
    await trackd.stop("SIGTERM");
  });
});

describe("request threads (in-process)", () => {
  test("an admin request the main thread cannot take is a 503 with Retry-After, not a 500", async () => {
    const logged: string[] = [];
    const app = createCollectApp(
      {
        config: testConfig(),
        events: { append: () => Promise.reject(new Error("unused")) },
        rejects: { record() {} },
        clientIds: { lookup: () => null, remember() {} },
        registry: new Registry(null, testConfig().registry),
        rateLimits: new RateLimits(testConfig().rateLimits),
        log: createLog("error", (line) => void logged.push(line)),
        metrics: new Metrics(),
        now: Date.now,
        draining: () => false,
        storageFull: () => false,
        peerAddress: () => null,
        writable: async () => true,
        renderMetrics: () => "",
      },
      {
        paths: ["/admin"],
        forward: () => Promise.reject(new Error("connect ENOENT /tmp/trackd-admin-x/admin.sock")),
      },
    );
    for (const path of ["/admin", "/admin/api/events"]) {
      const res = await app.handle(new Request(`http://localhost${path}`));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        "admin_unavailable",
      );
    }
    expect(logged.join("")).toContain("ENOENT");
    expect((await app.handle(new Request("http://localhost/nope"))).status).toBe(404); // answered here
  });

  /**
   * One request thread beside a stand-in for the main thread's listener (it answers 418) on a
   * fresh store; `store` adjusts the store the threads are given.
   */
  async function oneThread(
    logged: string[],
    store: (s: Store) => RequestThreadsOptions["store"] = (s) => s,
  ) {
    const dataDir = tempDir("trackd-threads-");
    const port = await freePort();
    const { config } = loadConfig(["--port", String(port), "--data-dir", dataDir], {});
    const opened = openStore({ dataDir, durability: "relaxed", rejectLogSize: 10 });
    await opened.writerReady;
    const main = Bun.serve({
      port,
      hostname: "127.0.0.1",
      reusePort: true,
      fetch: () => new Response(null, { status: 418 }),
    });
    const threads = new RequestThreads({
      count: 1,
      config: { ...config, host: "127.0.0.1" },
      envOptions: opened.envOptions,
      port,
      tls: null,
      journal: false,
      forwardTo: null,
      rateLimits: { perIp: null, perTracker: null },
      store: store(opened),
      metrics: new Metrics(),
      log: createLog("warn", (line) => void logged.push(line)),
      state: () => ({ storageFull: false, draining: false }),
    });
    await threads.start();
    return {
      threads,
      port,
      url: `http://127.0.0.1:${port}`,
      async close() {
        await threads.stop(1000);
        main.stop(true);
        await opened.close();
      },
    };
  }

  test("when the writer thread fails, a request thread refuses events at once (503), never waits", async () => {
    let writerFails: (error: Error) => void = () => {};
    // The store as the main thread sees it, with its writer's failure in the test's hands.
    const t = await oneThread([], (store) => ({
      ...store,
      onWriterFailure(listener) {
        writerFails = listener;
      },
    }));
    writerFails(new Error("event writer failed: gone"));
    await Bun.sleep(50);
    const statuses = await many(40, 8, async () => {
      const res = await fetch(`${t.url}/collect/${ACCOUNT}/${TRACKER}/event`, {
        method: "POST",
        headers: { "content-type": "application/json", connection: "close" },
        body: JSON.stringify(validEvent()),
        signal: AbortSignal.timeout(5000),
      });
      return res.status;
    });
    // 418: the stand-in for the main thread; every request on the thread is a 503.
    expect(statuses.filter((s) => s !== 418).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 418 || s === 503)).toBe(true);
    await t.close();
  });

  test("a request thread that dies is started again and serves", async () => {
    const logged: string[] = [];
    const t = await oneThread(logged);
    const served = async () =>
      (await many(40, 8, () => post(t.url, validEvent()))).filter((r) => r.status === 204).length;
    expect(await served()).toBeGreaterThan(0);

    t.threads.kill(0);
    await waitFor("the thread's end logged", () =>
      logged.some((l) => l.includes("request thread ended")),
    );
    expect(listeners(t.port)).toBe(1);
    await waitFor("the thread listening again", () => listeners(t.port) === 2);
    expect(await served()).toBeGreaterThan(0);
    await t.close();
  });
});
