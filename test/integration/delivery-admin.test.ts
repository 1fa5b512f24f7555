import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDeliveryApp, postMany, type DeliveryApp } from "../helpers/delivery-app.ts";
import { waitFor } from "../helpers/ports.ts";
import { ScriptedSink } from "../helpers/scripted-sink.ts";
import { BASE } from "../helpers/test-app.ts";

let d: DeliveryApp;
const good = new ScriptedSink("good");
const stuck = new ScriptedSink("stuck");
let ids: string[];
beforeAll(async () => {
  stuck.script.push(
    ...Array.from({ length: 100000 }, () => ({
      kind: "retry" as const,
      cause: "HTTP 503 from receiver",
      delayMs: 50,
    })),
  );
  d = await createDeliveryApp([good, stuck]);
  ids = await postMany(d, 4, "admin");
  await postMany(d, 1, "bad", "?oa_track=false");
  await waitFor("the good sink", () => good.accepted.length === 4);
  // The stuck sink has been refused twice (so it has a last error and a retry) with all five events in view.
  await waitFor(
    "the stuck sink's retries",
    () => stuck.batches.filter((b) => b.length === 4).length >= 2,
  );
});
afterAll(() => d.destroy());

type SinkReport = {
  name: string;
  state: string;
  cursor: string;
  delivered: number;
  retries: number;
  lastError: string | null;
  lag: { events: number; oldestAgeMs: number | null };
  health?: { ok: boolean };
};

describe("delivery admin API", () => {
  test("refuses every delivery route without the token", async () => {
    for (const [path, method] of [
      ["/admin/api/sinks", "GET"],
      ["/admin/api/dead-letters", "GET"],
      ["/admin/api/dead-letters/replay", "POST"],
    ] as const) {
      const res = await d.app.handle(new Request(`${BASE}${path}`, { method }));
      expect(res.status).toBe(401);
    }
  });

  test("reports each sink's cursor, lag, counts and last error, and runs health checks on request", async () => {
    const { sinks } = (await (await d.admin("/sinks?check=true")).json()) as {
      sinks: SinkReport[];
    };
    const [g, s] = sinks;
    expect(g).toMatchObject({
      name: "good",
      delivered: 4,
      lag: { events: 0, oldestAgeMs: null },
      health: { ok: true },
    });
    expect(s).toMatchObject({
      name: "stuck",
      delivered: 0,
      cursor: "",
      lastError: "HTTP 503 from receiver",
    });
    expect(s!.lag.events).toBe(5); // four events and the test event are stored after its cursor
    expect(s!.lag.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(s!.retries).toBeGreaterThan(0);
  });

  test("answers a health check that hangs with 'no answer' instead of waiting for it", async () => {
    stuck.healthHangs = true;
    try {
      const { sinks } = (await (await d.admin("/sinks?check=true")).json()) as {
        sinks: (SinkReport & { health: { ok: boolean; detail: string } })[];
      };
      expect(sinks[0]!.health).toEqual({ ok: true, detail: "scripted" });
      expect(sinks[1]!.health).toEqual({ ok: false, detail: "no answer within 3 s" });
    } finally {
      stuck.healthHangs = false;
    }
  });

  test("says where one event is: delivered to one sink, pending for the other", async () => {
    const res = await d.admin(`/events/${ids[0]}`);
    expect(await res.json()).toMatchObject({
      stored: true,
      delivery: [
        { sink: "good", status: "delivered" },
        { sink: "stuck", status: "pending" },
      ],
    });
  });

  test("serves Prometheus metrics for collection and delivery", async () => {
    const text = await (await d.app.handle(new Request(`${BASE}/metrics`))).text();
    expect(text).toContain('trackd_collect_requests_total{route="event"} 5');
    expect(text).toContain("trackd_events_received_total 5");
    expect(text).toContain("trackd_events_stored_total 5");
    // Every series exists from the start, at zero, with its labels; no unlabelled stand-in.
    expect(text).toContain('trackd_events_rejected_total{code="invalid_event"} 0');
    expect(text).not.toMatch(/^trackd_events_rejected_total \d/m);
    expect(text).toContain('trackd_sink_failed_total{sink="good"} 0');
    expect(text).toContain('trackd_collect_requests_total{route="pixel"} 0');
    expect(text).toContain('trackd_sink_delivered_total{sink="good"} 4');
    expect(text).toMatch(/trackd_sink_retries_total\{sink="stuck"\} [1-9]/);
    expect(text).toContain('trackd_sink_lag_events{sink="stuck"} 5');
    expect(text).toContain('trackd_sink_up{sink="stuck"} 0');
    expect(text).toContain("trackd_collect_duration_seconds_count 5");
    expect(text).toMatch(/trackd_storage_used_bytes \d+/);
  });
});
