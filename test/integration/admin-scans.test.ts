/**
 * Admin scans (leads and their exports) yield, stop when their client goes, and stop with a
 * clear error past their time limit. (How much ingest they leave is measured by
 * `npm run bench -- --only admin`, not asserted here.)
 */
import { LeadTouches } from "../../server/journey/lead-touches.ts";
import { leadRule } from "../../server/journey/lead-rule.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { Elysia } from "elysia";
import {
  JourneySchema,
  LeadsSchema,
  type JourneyLimits,
  type LeadRule,
} from "../../server/config/schema.ts";
import { journeyAdminRoutes } from "../../server/http/journey-admin.ts";
import type { JourneyReader } from "../../server/journey/journey.ts";
import { MAX_SLICE_MS, ScanBudget, ScanStopped } from "../../server/store/scan-budget.ts";
import { createTestApp, errorOf, type TestApp, validEvent } from "../helpers/test-app.ts";

const ACCOUNT = "6f1c1f0e-9a55-4d5e-8d43-1c2b3a4d5e6f";
const LEADS = 300;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < LEADS; i++) {
    const res = await t.collect(
      validEvent({ action: "submit", object: "lead", instance_id: `chat-${crypto.randomUUID()}` }),
      { aid: ACCOUNT },
    );
    expect(res.status).toBe(204);
  }
});
afterAll(() => t.close());

/** The leads routes alone, over a reader that counts its reads, with a time limit of `timeoutMs`. */
function leadsApp(timeoutMs: number) {
  let reads = 0;
  const events = t.store.events;
  const reader: JourneyReader = {
    get: (id) => {
      reads++;
      return events.get(id);
    },
    links: events.links,
    memory: events.memory,
  };
  const journey = Value.Default(JourneySchema, {}) as JourneyLimits;
  const leads = Value.Default(LeadsSchema, {}) as LeadRule;
  const touches = new LeadTouches({
    reader,
    journey,
    isLead: leadRule(leads),
    lookbackMs: 90 * 86_400_000,
    db: events.leadTouches,
    accountRules: () => "",
  });
  const app = new Elysia().use(
    journeyAdminRoutes({
      reader,
      touches,
      journey,
      leads,
      attribution: { lookbackDays: 90 },
      queryTimeoutMs: timeoutMs,
      now: Date.now,
      deliveries: { of: () => [] },
      contacts: { open: () => ({ state: "none" }) },
    }),
  );
  return { app, reads: () => reads };
}

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe("a scan's budget", () => {
  test("goes on within a slice, yields at its end, and stops when time is up or the client has gone", async () => {
    const budget = new ScanBudget(60_000);
    await budget.pace(); // within the first slice: no yield, no error
    busy(MAX_SLICE_MS + 1);
    await budget.pace();
    const late = new ScanBudget(0);
    busy(MAX_SLICE_MS + 1);
    await expect(late.pace()).rejects.toEqual(new ScanStopped("timeout"));
    const gone = new AbortController();
    const left = new ScanBudget(60_000, gone.signal);
    gone.abort();
    busy(MAX_SLICE_MS + 1);
    await expect(left.pace()).rejects.toEqual(new ScanStopped("client_gone"));
  });
});

describe("leads scans", () => {
  test("finds every lead within the time limit", async () => {
    const { app } = leadsApp(60_000);
    const res = await app.handle(
      new Request(`http://localhost/leads?accountId=${ACCOUNT}&limit=10000`),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { leads: unknown[] }).leads.length).toBe(LEADS);
  });

  test("stop past the time limit with 503 query_timeout saying how to narrow the query, in every format", async () => {
    const { app } = leadsApp(0);
    for (const path of ["/leads", "/leads.csv", "/leads.ndjson"]) {
      const res = await app.handle(
        new Request(`http://localhost${path}?accountId=${ACCOUNT}&limit=10000`),
      );
      expect(res.status).toBe(503);
      const error = await errorOf(res);
      expect(error.code).toBe("query_timeout");
      expect(error.message).toContain("narrow it");
    }
  });

  test("stop reading when the client goes away", async () => {
    const { app, reads } = leadsApp(60_000);
    const client = new AbortController();
    const answered = app.handle(
      new Request(`http://localhost/leads.csv?accountId=${ACCOUNT}&limit=10000`, {
        signal: client.signal,
      }),
    );
    // Let it read some, then go.
    while (reads() < 20) await Bun.sleep(1);
    client.abort();
    const res = await answered;
    const readsWhenGone = reads();
    await Bun.sleep(50);
    expect(reads()).toBe(readsWhenGone);
    expect(readsWhenGone).toBeLessThan(LEADS * 2);
    expect((await errorOf(res)).code).toBe("query_timeout");
  });
});

describe("the events list", () => {
  test("pauses while it reads (every 100 events), and finds what the sync list finds", async () => {
    let pauses = 0;
    const paced = await t.store.events.listPaced({ vendor: "nobody" }, 50, undefined, async () => {
      pauses++;
    });
    expect(paced).toEqual(t.store.events.list({ vendor: "nobody" }, 50));
    expect(pauses).toBe(Math.floor(LEADS / 100));
  });
});

describe("the reject log's reads", () => {
  test("pause every 100 records, and count and list what the unpaced list finds", async () => {
    for (let i = 0; i < 250; i++)
      expect((await t.collect({ action: "view" }, { aid: ACCOUNT })).status).toBe(400);
    await t.store.rejects.written();
    let pauses = 0;
    const pace = async () => {
      pauses++;
    };
    const counted = await t.store.rejects.countByCode(pace);
    expect(counted).toEqual({ total: 250, byCode: { invalid_event: 250 } });
    expect(pauses).toBe(2);
    const listed = await t.store.rejects.listPaced({ limit: 1000, code: "invalid_event" }, pace);
    expect(listed).toEqual(t.store.rejects.list({ limit: 1000, code: "invalid_event" }));
    expect(listed.length).toBe(250);
  });
});
