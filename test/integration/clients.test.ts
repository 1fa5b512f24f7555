/** What every kind of client relies on: batches, safe retries, client times, GET and pixel forms, limits. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDeliveryApp } from "../helpers/delivery-app.ts";
import { createTestApp, errorOf, validEvent, type TestApp, BASE } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const batch = (events: unknown, query = "", headers: Record<string, string> = {}) =>
  t.app.handle(
    new Request(`${BASE}/collect/1/1/events${query}`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...headers },
      body: JSON.stringify(events),
    }),
  );
type BatchBody = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: {
    index: number;
    status: string;
    eventId?: string;
    error?: { code: string; details: { path: string; code: string }[] };
  }[];
};

describe("the batch route", () => {
  test("validates each event on its own and answers a result per event", async () => {
    const res = await batch([
      validEvent({ instance_id: "b-0" }),
      { action: "view" },
      "not an object",
      validEvent({ instance_id: "b-3", score: "high" }),
      validEvent({ instance_id: "b-4" }),
    ]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as BatchBody;
    expect([body.accepted, body.duplicates, body.rejected]).toEqual([2, 0, 3]);
    expect(body.results.map((r) => r.status)).toEqual([
      "accepted",
      "rejected",
      "rejected",
      "rejected",
      "accepted",
    ]);
    expect(body.results[1]!.error!.details.map((d) => d.path)).toEqual([
      "/object",
      "/vendor",
      "/product",
      "/instance_id",
    ]);
    expect(body.results[2]!.error!.details[0]).toMatchObject({ path: "/2", code: "invalid_type" });
    expect(body.results[3]!.error!.details[0]).toMatchObject({
      path: "/score",
      code: "invalid_type",
    });
    for (const r of [body.results[0]!, body.results[4]!])
      expect(t.store.events.get(r.eventId!)!.instanceId).toMatch(/^b-[04]$/);
  });

  test("refuses a batch over the event limit with 413, and a body that is not an array with 400", async () => {
    const tooMany = await batch(
      Array.from({ length: 501 }, (_, i) => validEvent({ instance_id: `many-${i}` })),
    );
    expect(tooMany.status).toBe(413);
    expect((await errorOf(tooMany)).code).toBe("too_many_events");
    const notArray = await batch(validEvent());
    expect(notArray.status).toBe(400);
    expect((await errorOf(notArray)).code).toBe("body_not_array");
    const big = await batch(
      Array.from({ length: 200 }, () => validEvent({ pad: "x".repeat(6000) })),
    );
    expect(big.status).toBe(413);
  });

  test("never answers 5xx after storing part of a batch: each event says what became of it, and 503 only when nothing was stored", async () => {
    const append = t.store.events.append.bind(t.store.events);
    let n = 0;
    // The injected fault: every other event cannot be stored.
    t.store.events.append = (event, ...rest) =>
      n++ % 2 === 1 ? Promise.reject(new Error("MDB_MAP_FULL (injected)")) : append(event, ...rest);
    try {
      const res = await batch([
        validEvent({ instance_id: "half-0" }),
        validEvent({ instance_id: "half-1" }),
        validEvent({ instance_id: "half-2" }),
      ]);
      expect(res.status).toBe(200);
      const body = (await res.json()) as BatchBody;
      expect(body.results.map((r) => [r.status, r.error?.code])).toEqual([
        ["accepted", undefined],
        ["rejected", "storage_unavailable"],
        ["accepted", undefined],
      ]);
      n = 1; // the next append fails, and it is the only one
      const none = await batch([validEvent({ instance_id: "none-0" })]);
      expect(none.status).toBe(503);
      // Each failure logged at error, with its cause.
      const notStored = t.logs.filter((l) => l.includes('"msg":"event not stored"'));
      expect(notStored).toHaveLength(2);
      expect(notStored.every((l) => l.includes("MDB_MAP_FULL (injected)"))).toBe(true);
    } finally {
      t.store.events.append = append;
    }
  });

  test("accepts 500 events in one request", async () => {
    const before = t.store.events.count();
    const body = (await (
      await batch(Array.from({ length: 500 }, (_, i) => validEvent({ instance_id: `full-${i}` })))
    ).json()) as BatchBody;
    expect(body.accepted).toBe(500);
    expect(t.store.events.count()).toBe(before + 500);
  });
});

describe("client event IDs", () => {
  test("answers a retry as a success marked duplicate, storing the event once", async () => {
    const clientId = crypto.randomUUID();
    const first = await t.collect(validEvent({ eventId: clientId, instance_id: "retry" }));
    expect(first.status).toBe(204);
    expect(first.headers.get("x-duplicate")).toBeNull();
    const again = await t.collect(
      validEvent({ eventId: clientId.toUpperCase(), instance_id: "retry" }),
    );
    expect(again.status).toBe(204);
    expect(again.headers.get("x-duplicate")).toBe("true");
    expect(again.headers.get("x-event-id")).toBe(first.headers.get("x-event-id"));
    expect(t.store.events.get(first.headers.get("x-event-id")!)!.clientEventId).toBe(clientId);
    const other = await t.collect(validEvent({ eventId: clientId }), { tid: "2" }); // another tracker: another event
    expect(other.headers.get("x-duplicate")).toBeNull();
  });

  test("stores once when the same event arrives twice at the same moment, or twice in one batch", async () => {
    const clientId = crypto.randomUUID();
    const [a, b] = await Promise.all([
      t.collect(validEvent({ eventId: clientId })),
      t.collect(validEvent({ eventId: clientId })),
    ]);
    expect([a.headers.get("x-duplicate"), b.headers.get("x-duplicate")].sort()).toEqual(
      [null, "true"].sort(),
    );
    expect(a.headers.get("x-event-id")).toBe(b.headers.get("x-event-id"));
    const id = crypto.randomUUID();
    const body = (await (
      await batch([validEvent({ eventId: id }), validEvent({ eventId: id })])
    ).json()) as BatchBody;
    expect(body.results.map((r) => r.status)).toEqual(["accepted", "duplicate"]);
  });

  test("refuses an eventId that is not a UUID", async () => {
    const error = await errorOf(await t.collect(validEvent({ eventId: "abc" })));
    expect(error.details).toEqual([
      expect.objectContaining({ path: "/eventId", code: "invalid_value" }),
    ]);
  });
});

describe("client times", () => {
  // A fixed clock in the past: a future one would push the shared ID generator ahead for other tests.
  const at = Date.parse("2025-06-01T10:00:00.000Z");
  const timed = async (fields: Record<string, unknown>, now = at) => {
    const app = await createTestApp({}, { now: () => now });
    const res = await app.collect(validEvent(fields), { query: "?oa_debug=true" });
    const report = (await res.json()) as {
      valid: boolean;
      event: { receivedAt: string; occurredAt: string };
      problems: { path: string; code: string }[];
      warnings: { code: string }[];
    };
    await app.close();
    return report;
  };

  test("occurredAt is receivedAt without client times", async () => {
    const r = await timed({});
    expect(r.event.occurredAt).toBe(r.event.receivedAt);
  });

  test("corrects the client's clock skew with sentAt", async () => {
    // The device's clock is 1 hour fast: it says it happened at 11:00 and sent at 11:05.
    const r = await timed({
      timestamp: "2025-06-01T11:00:00Z",
      sentAt: Date.parse("2025-06-01T11:05:00Z"),
    });
    expect(r.event.occurredAt).toBe("2025-06-01T09:55:00.000Z");
  });

  test("takes a timestamp alone as is, in ISO 8601 with an offset or epoch milliseconds", async () => {
    expect((await timed({ timestamp: "2025-06-01T08:30:00+01:00" })).event.occurredAt).toBe(
      "2025-06-01T07:30:00.000Z",
    );
    expect((await timed({ timestamp: at - 5000 })).event.occurredAt).toBe(
      "2025-06-01T09:59:55.000Z",
    );
  });

  test("clamps events dated more than a day ahead, with a warning", async () => {
    const r = await timed({ timestamp: at + 2 * 86400_000 });
    expect(r.event.occurredAt).toBe(r.event.receivedAt);
    expect(r.warnings.map((w) => w.code)).toContain("clamped_future");
  });

  test("rejects ambiguous or malformed times", async () => {
    for (const timestamp of [
      1748772000,
      "2025-06-01T10:00:00",
      "01/06/2025",
      "yesterday",
      1.5e12 + 0.5,
      true,
    ]) {
      const r = await timed({ timestamp });
      expect(r.valid).toBe(false);
      expect(r.problems[0]).toMatchObject({ path: "/timestamp" });
    }
  });
});

describe("GET and pixel forms", () => {
  test("GET with the fields in the query answers 204 with the same validation", async () => {
    const ok = await t.app.handle(
      new Request(
        `${BASE}/collect/1/1/event?action=view&object=vehicle&vendor=Vendor%20A&product=P&instance_id=get-1&score=2.5&color=red`,
      ),
    );
    expect(ok.status).toBe(204);
    const event = t.store.events.get(ok.headers.get("x-event-id")!)!;
    expect(event).toMatchObject({
      action: "view",
      instanceId: "get-1",
      score: 2.5,
      properties: { color: "red" },
    });
    const bad = await t.app.handle(new Request(`${BASE}/collect/1/1/event?action=view`));
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe("invalid_event");
  });

  test("the .gif form answers a 1x1 GIF", async () => {
    const res = await t.app.handle(
      new Request(
        `${BASE}/collect/1/1/event.gif?action=view&object=page&vendor=v&product=p&instance_id=pixel`,
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 6))).toBe("GIF89a");
    expect(res.headers.get("x-event-id")).toBeTruthy();
  });
});

describe("back-pressure and origins", () => {
  test("answers 429 with Retry-After past a tracker's rate limit", async () => {
    const frozen = Date.now(); // no refill during the test
    const limited = await createTestApp(
      { rateLimits: { perTracker: { ratePerSecond: 1, burst: 3 } } },
      { now: () => frozen },
    );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await limited.collect(validEvent())).status);
    expect(statuses).toEqual([204, 204, 204, 429, 429]);
    const res = await limited.collect(validEvent());
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await errorOf(res)).code).toBe("rate_limited");
    expect((await limited.collect(validEvent(), { tid: "2" })).status).toBe(204); // another tracker has its own bucket
    await limited.store.rejects.written();
    expect(limited.store.rejects.list({ limit: 10, code: "rate_limited" })).toHaveLength(3); // every refusal is in the reject log
    expect(limited.store.stats.get("1", "1")!.rejected).toBe(3);
    await limited.close();
  });

  test("refuses browser requests from origins a tracker does not allow, when it lists some", async () => {
    const registry = {
      accounts: [{ id: "1", name: "A" }],
      trackers: [
        { id: "1", accountId: "1", name: "site", allowedOrigins: ["https://dealer.example"] },
      ],
    };
    const app = await createTestApp({ registry });
    expect(
      (await app.collect(validEvent(), { headers: { origin: "https://dealer.example" } })).status,
    ).toBe(204);
    const refused = await app.collect(validEvent(), {
      headers: { origin: "https://evil.example" },
    });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe("origin_not_allowed");
    await app.store.rejects.written();
    expect(
      app.store.rejects
        .list({ limit: 10, code: "origin_not_allowed" })
        .map((r) => r.details[0]!.message),
    ).toEqual(["Origin https://evil.example is not among this tracker's allowed origins."]);
    expect((await app.collect(validEvent())).status).toBe(204); // servers send no Origin
    expect(
      (await app.collect(validEvent(), { tid: "2", headers: { origin: "https://evil.example" } }))
        .status,
    ).toBe(204); // no list: any origin
    await app.close();
  });
});

describe("client event IDs across a restart", () => {
  test("still recognises a retry after trackd restarts", async () => {
    const clientId = crypto.randomUUID();
    const first = await createDeliveryApp([]);
    const a = await first.post(validEvent({ eventId: clientId }));
    await first.stop();
    const second = await createDeliveryApp([], { dir: first.dir });
    const b = await second.post(validEvent({ eventId: clientId }));
    expect(b.headers.get("x-duplicate")).toBe("true");
    expect(b.headers.get("x-event-id")).toBe(a.headers.get("x-event-id"));
    expect(second.store.events.count()).toBe(1);
    await second.destroy();
  });
});
