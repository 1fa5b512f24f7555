/**
 * The long memory of visits: retention deletes raw events, and a lead weeks later still finds
 * the visit that brought the shopper, with its campaign and click ID, through what the memory
 * kept (store/visit-memory.ts). The app runs on a clock the test moves; retention sweeps as
 * it does in the service. UUID accounts, devices, visits and instance IDs, as the Web SDK
 * and vendors send them.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { Journey } from "../../server/journey/journey.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import { Value } from "@sinclair/typebox/value";
import { LeadsSchema, type LeadRule } from "../../server/config/schema.ts";
import { isStage } from "../../server/journey/conversions.ts";
import { leadRule } from "../../server/journey/lead-rule.ts";
import { Retention } from "../../server/store/retention.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { sha256 } from "../helpers/shoppers.ts";
import { createTestApp, type TestApp } from "../helpers/test-app.ts";

const DAY = 86_400_000;
const START = Date.parse("2026-06-01T15:00:00Z"); // each test's store has its own event IDs: any clock
const LANDING =
  "https://dealer.example/inventory?utm_source=google&utm_medium=cpc&utm_campaign=fall-trucks&gclid=Cj0KCQiA-long-memory";
let clock = START;
let t: TestApp;

async function app(): Promise<TestApp> {
  clock = START;
  t = await createTestApp({}, { now: () => clock });
  return t;
}
afterEach(() => t?.close());

/** Retention as the service runs it: 7 days of raw events, 90 of visits and leads, no sinks to wait for. */
const sweep = (capBytes = 0) =>
  new Retention(t.store, {
    retentionMs: 7 * DAY,
    lookbackMs: 90 * DAY,
    keepForLookback: (e) => leadRule(Value.Default(LeadsSchema, {}) as LeadRule)(e) || isStage(e),
    capBytes,
    minCursor: () => null,
    log: createLog("error"),
    now: () => clock,
  }).sweep();

/** One visit as the Web SDK sends it: a page view on `pageUrl`, then `vehicles` viewed. */
async function visit(
  account: string,
  device: string,
  instanceId: string,
  pageUrl: string,
  vehicles: string[] = ["1FTFW1E50PFA00001"],
  extra: Record<string, string> = {},
  visitId: string = randomUUID(),
): Promise<string> {
  const common = {
    vendor: "Dealer Site",
    product: "Web SDK",
    instance_id: instanceId,
    deviceId: device,
    visitId,
    pageUrl,
    referrer: "https://www.google.com/",
    ...extra,
  };
  const events = [
    { action: "view", object: "page", ...common },
    ...vehicles.map((vin) => ({ action: "view", object: "vehicle", vin, ...common })),
  ];
  const res = await t.sdkBatch(events, { aid: account });
  expect(res.status).toBe(200);
  return visitId;
}

async function post(account: string, body: Record<string, unknown>): Promise<string> {
  const res = await t.collect(
    { vendor: "Chat Co", product: "Chat", ...body },
    { aid: account, tid: "1" },
  );
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

const lead = (account: string, instanceId: string, fields: Record<string, unknown> = {}) =>
  post(account, { action: "submit", object: "lead", instance_id: instanceId, ...fields });

async function leadsOf(account: string, query = ""): Promise<LeadPage> {
  const res = await t.admin(`/leads?accountId=${account}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as LeadPage;
}

async function journeyOf(account: string, eventId: string): Promise<Journey> {
  const res = await t.admin(`/journey?accountId=${account}&eventId=${eventId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Journey;
}

describe("the long memory of visits", () => {
  test("a lead 60 days after the only visit finds it, its campaign and gclid, after its raw events are gone", async () => {
    await app();
    const account = randomUUID();
    const chat = randomUUID();
    const visitId = await visit(account, randomUUID(), chat, LANDING, [
      "1FTFW1E50PFA00001",
      "5YJ3E1EA7KF000002",
    ]);
    expect(t.store.events.count()).toBe(3);

    clock = START + 8 * DAY;
    expect(await sweep()).toBe(3);
    expect(t.store.events.count()).toBe(0);

    clock = START + 60 * DAY;
    const leadId = await lead(account, chat);
    const page = await leadsOf(account);
    expect(page.leads).toHaveLength(1);
    const summary = page.leads[0]!;
    expect(summary.matched).toBe(true);
    expect(summary.unmatchedReason).toBeNull();
    expect(summary.firstTouch?.visitId).toBe(visitId);
    expect(summary.firstTouch?.utm.campaign).toBe("fall-trucks");
    expect(summary.firstTouch?.clickIds.gclid).toBe("Cj0KCQiA-long-memory");

    const journey = await journeyOf(account, leadId);
    expect(journey.visits).toHaveLength(1);
    const remembered = journey.visits[0]!;
    // Only the summary is left of the visit: it says so, and what it kept.
    expect(remembered.events).toEqual([]);
    expect(remembered.summarized).toBe(3);
    expect(remembered.pageViews).toBe(1);
    expect(remembered.vehicles).toEqual(["1FTFW1E50PFA00001", "5YJ3E1EA7KF000002"]);
    expect(remembered.landingPage).toBe(LANDING);
    expect(journey.events.map((e) => e.eventId)).toEqual([leadId]);
  });

  test("a lead stays listed, with its journey and its touches, for the lookback; then it goes", async () => {
    await app();
    const account = randomUUID();
    const chat = randomUUID();
    await visit(account, randomUUID(), chat, LANDING, []);
    const leadId = await lead(account, chat);
    const call = await post(account, { action: "call", object: "phone", instance_id: chat });
    clock = START + 30 * DAY;
    expect(await sweep()).toBe(2); // the page view and the call, not the lead
    expect(t.store.events.get(call)).toBeUndefined();
    const page = await leadsOf(account, `&from=${START - DAY}`);
    expect(page.leads.map((l) => l.lead.eventId)).toEqual([leadId]);
    expect(page.leads[0]!.firstTouch?.clickIds.gclid).toBe("Cj0KCQiA-long-memory");
    expect((await t.admin(`/leads/${leadId}?accountId=${account}`)).status).toBe(200);
    // A later stage of the lead stays too: the conversion file a month on still has it.
    const sold = await post(account, {
      action: "change",
      object: "lead",
      instance_id: chat,
      stage: "sold",
      value: 31500,
    });
    clock = START + 45 * DAY;
    await sweep();
    const file = await (
      await t.admin(`/conversions/google-ads.csv?accountId=${account}&from=${START + 29 * DAY}`)
    ).text();
    expect(file).toContain(`Cj0KCQiA-long-memory,,,,,sold,`);
    expect(file).toContain(sold);
    clock = START + 91 * DAY;
    expect(await sweep()).toBe(1); // the lead; the stage goes at its own lookback
    expect(t.store.events.get(sold)).toBeDefined();
    clock = START + 121 * DAY;
    expect(await sweep()).toBe(1);
    expect(t.store.events.count()).toBe(0);
  });

  test("a visit half deleted is one visit: the summary of its first part and its stored events", async () => {
    await app();
    const account = randomUUID();
    const device = randomUUID();
    const chat = randomUUID();
    const visitId = await visit(account, device, chat, LANDING);
    clock = START + 2 * DAY; // the same visit ID: a visit the SDK kept going (a test's liberty)
    await visit(account, device, chat, "https://dealer.example/finance", [], {}, visitId);
    clock = START + 8 * DAY;
    expect(await sweep()).toBe(2);
    clock = START + 9 * DAY;
    const leadId = await lead(account, chat);
    const journey = await journeyOf(account, leadId);
    expect(journey.visits).toHaveLength(1);
    const v = journey.visits[0]!;
    expect(v.summarized).toBe(2);
    expect(v.events).toHaveLength(1);
    expect(v.pageViews).toBe(2);
    expect(v.utm.campaign).toBe("fall-trucks"); // where it came from: its first, deleted, part
    expect(v.start).toBe(new Date(START).toISOString());
  });

  test("a remembered call still joins: a lead with the same phone 60 days later reaches the visit through it", async () => {
    await app();
    const account = randomUUID();
    const chat = randomUUID();
    const phone = sha256("+15125550143");
    await visit(account, randomUUID(), chat, LANDING);
    clock = START + DAY;
    const call = await post(account, {
      action: "call",
      object: "phone",
      instance_id: chat,
      phoneSha256: phone,
    });
    clock = START + 9 * DAY;
    await sweep();
    expect(t.store.events.get(call)).toBeUndefined();
    clock = START + 60 * DAY;
    const leadId = await lead(account, randomUUID(), { phoneSha256: phone, vendor: "Credit App" });
    const journey = await journeyOf(account, leadId);
    expect(journey.remembered.map((e) => [e.eventId, e.action, e.object])).toEqual([
      [call, "call", "phone"],
    ]);
    expect(journey.visits).toHaveLength(1);
    expect((await leadsOf(account)).leads[0]!.firstTouch?.clickIds.gclid).toBe(
      "Cj0KCQiA-long-memory",
    );
    expect(journey.why.some((s) => s.kind === "instance" && s.via?.eventId === call)).toBe(true);
  });

  test("past the lookback a visit no longer counts (outside_lookback), then is forgotten (never_seen)", async () => {
    await app();
    const account = randomUUID();
    const chat = randomUUID();
    await visit(account, randomUUID(), chat, LANDING);
    clock = START + 8 * DAY;
    await sweep();
    clock = START + 95 * DAY;
    await lead(account, chat);
    const late = (await leadsOf(account)).leads[0]!;
    expect(late.matched).toBe(false);
    expect(late.unmatchedReason).toBe("outside_lookback");
    expect(late.firstTouch).toBeNull();

    await sweep(); // 95 days: the visit's trace is past the 90-day lookback
    expect(t.store.events.memory.size().traces).toBe(0);
    expect((await leadsOf(account)).leads[0]!.unmatchedReason).toBe("never_seen");
  });

  test("accounts never cross in the memory, and long, Unicode and NUL-bearing IDs round-trip", async () => {
    await app();
    const [a, b] = [randomUUID(), randomUUID()];
    const chat = `chat-${"é\u0000😀".repeat(40)}-${randomUUID()}`;
    const device = randomUUID();
    await visit(a, device, chat, LANDING, [], {}, `visit-${"ü".repeat(200)}`);
    await visit(b, device, chat, "https://other.example/?utm_campaign=other-account");
    clock = START + 8 * DAY;
    expect(await sweep()).toBe(3);
    clock = START + 10 * DAY;
    await lead(a, chat);
    await lead(b, chat);
    const [la, lb] = [(await leadsOf(a)).leads[0]!, (await leadsOf(b)).leads[0]!];
    expect(la.firstTouch?.utm.campaign).toBe("fall-trucks");
    expect(la.firstTouch?.visitId).toBe(`visit-${"ü".repeat(200)}`);
    expect(lb.firstTouch?.utm.campaign).toBe("other-account");
  });

  test("at the storage cap the oldest remembered visits give way, a tenth a sweep", async () => {
    await app();
    const account = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) {
      clock = START + i * 60_000;
      ids.push(await visit(account, randomUUID(), randomUUID(), `${LANDING}&n=${i}`, []));
    }
    const [first, second, last] = [ids[0], ids[39], ids[399]];
    clock = START + 8 * DAY;
    await sweep();
    const before = t.store.events.memory.size();
    expect(before.traces).toBe(400);
    expect(before.jsonBytes / before.visits).toBeLessThan(1000);
    await sweep(t.store.usedBytes() - 16 * 1024);
    // A tenth a sweep, oldest first: the first 40 visits.
    expect(t.store.events.memory.count()).toBe(360);
    expect(t.store.events.memory.trace(account, `v${first}`)).toBeUndefined();
    expect(t.store.events.memory.trace(account, `v${second}`)).toBeUndefined();
    expect(t.store.events.memory.trace(account, `v${last}`)).toBeDefined();
  });

  test("leads filter by when they happened as well as by when they arrived", async () => {
    await app();
    const account = randomUUID();
    clock = START + 60 * DAY;
    // History imported on July 31st: it happened in June.
    const old = await lead(account, randomUUID(), { timestamp: "2026-06-10T12:00:00Z" });
    const fresh = await lead(account, randomUUID());
    const received = await leadsOf(account, "&from=2026-06-01&to=2026-07-01");
    expect(received.by).toBe("received");
    expect(received.leads).toEqual([]);
    const occurred = await leadsOf(account, "&from=2026-06-01&to=2026-07-01&by=occurred");
    expect(occurred.by).toBe("occurred");
    expect(occurred.leads.map((l) => l.lead.eventId)).toEqual([old]);
    const now = await leadsOf(account, "&by=occurred");
    expect(now.leads.map((l) => l.lead.eventId)).toEqual([fresh]);
    const bad = await t.admin(`/leads?accountId=${account}&by=sent`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("by");
  });
});
