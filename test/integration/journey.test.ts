/**
 * Matching on a realistic data set (test/helpers/shoppers.ts): 400 shoppers over several visits
 * each, posted as the Web SDK sends them, then leads from vendors' servers with and without
 * the shopper's instance ID. Every planted join is found, no event of another shopper is
 * joined, and the planted noise (a shared test email, one instance ID on every call) is
 * reported and not followed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Journey } from "../../server/journey/journey.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import {
  NOISY_EMAIL,
  planShoppers,
  sha256,
  SHARED_CALL_INSTANCE,
  type PlannedLead,
  type Shopper,
} from "../helpers/shoppers.ts";
import { BASE, createTestApp, type TestApp } from "../helpers/test-app.ts";

const ACCOUNT = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const SHOPPERS = 400;
let t: TestApp;
const owner = new Map<string, number>(); // event ID -> shopper index
const leads: { eventId: string; shopper: Shopper | null; lead: PlannedLead }[] = [];
const plan = planShoppers(SHOPPERS, 11, Date.now() - 10 * 86_400_000);

async function postVisit(shopper: Shopper, events: Record<string, unknown>[]): Promise<void> {
  const sentAt = Date.now();
  const res = await t.app.handle(
    new Request(`${BASE}/collect/${ACCOUNT}/1/events?sdk=web-0.2.0`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(events.map((e) => ({ ...e, sentAt }))),
    }),
  );
  const body = (await res.json()) as { accepted: number; results: { eventId: string }[] };
  expect(body.accepted).toBe(events.length);
  for (const r of body.results) owner.set(r.eventId, shopper.index);
}

async function postLead(shopper: Shopper | null, lead: PlannedLead): Promise<void> {
  const res = await t.collect(lead.body, { aid: ACCOUNT, tid: "1" });
  expect(res.status).toBe(204);
  const eventId = res.headers.get("x-event-id")!;
  leads.push({ eventId, shopper, lead });
  if (shopper) owner.set(eventId, shopper.index);
}

async function journeyOf(eventId: string): Promise<Journey> {
  const res = await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${eventId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Journey;
}

beforeAll(async () => {
  t = await createTestApp();
  for (const shopper of plan.shoppers)
    for (const visit of shopper.visits) await postVisit(shopper, visit.events);
  for (const shopper of plan.shoppers)
    for (const lead of shopper.leads) await postLead(shopper, lead);
  for (const lead of plan.orphanLeads) await postLead(null, lead);
}, 120000);
afterAll(() => t.close());

describe("the shopper behind a lead", () => {
  test("the data set plants every kind of join", () => {
    const kinds: string[] = leads.map((l) => l.lead.kind);
    for (const kind of ["chat", "credit", "call", "unmatched-call", "test-email"])
      expect(kinds).toContain(kind);
    expect(plan.shoppers.filter((s) => s.devices.length === 2).length).toBeGreaterThan(50);
    expect(plan.shoppers.filter((s) => s.noisy).length).toBeGreaterThan(SHOPPERS / 10);
  });

  test("finds every planted join: all of the shopper's devices and visits, and nothing of anyone else", async () => {
    for (const { eventId, shopper, lead } of leads.filter((l) => l.shopper)) {
      const journey = await journeyOf(eventId);
      const context = `${lead.kind} lead of shopper ${shopper!.index}`;
      expect([context, [...journey.deviceIds].sort()]).toEqual([
        context,
        [...shopper!.devices].sort(),
      ]);
      expect([context, journey.visits.map((v) => v.visitId)]).toEqual([
        context,
        shopper!.visits.map((v) => v.visitId),
      ]);
      for (const e of journey.events)
        expect([context, e.eventId, owner.get(e.eventId)]).toEqual([
          context,
          e.eventId,
          shopper!.index,
        ]);
      expect(journey.leads.map((l) => l.eventId)).toContain(eventId);
      const first = journey.visits[0]!;
      expect(first.utm).toEqual({
        source: shopper!.visits[0]!.source,
        medium: shopper!.visits[0]!.medium,
        campaign: shopper!.visits[0]!.campaign,
      });
      expect(first.landingPage).toBe(shopper!.visits[0]!.landingPage);
    }
  });

  test("reports a shared identifier and does not follow it", async () => {
    const testLead = leads.find((l) => l.lead.kind === "test-email")!;
    const journey = await journeyOf(testLead.eventId);
    expect(journey.events.map((e) => e.eventId)).toEqual([testLead.eventId]);
    expect(journey.deviceIds).toEqual([]);
    expect(journey.truncated).toBe(true);
    const step = journey.why.find((s) => s.kind === "email")!;
    expect(step).toMatchObject({ value: sha256(NOISY_EMAIL), followed: false, reason: "shared" });
    expect(step.shoppers).toBeGreaterThan(5);

    const call = leads.find((l) => l.lead.kind === "call")!;
    const callJourney = await journeyOf(call.eventId);
    expect(
      callJourney.why.find((s) => s.kind === "instance" && s.value === SHARED_CALL_INSTANCE),
    ).toMatchObject({ followed: false, reason: "shared" });
  });

  test("says how each device was linked", async () => {
    const chat = leads.find((l) => l.lead.kind === "chat" && l.shopper!.devices.length === 2)!;
    const journey = await journeyOf(chat.eventId);
    const devices = journey.why.filter((s) => s.kind === "device" && s.followed);
    expect(devices.map((s) => s.value).sort()).toEqual([...chat.shopper!.devices].sort());
    for (const step of devices) expect(step.via).not.toBeNull();
    expect(journey.why.some((s) => s.kind === "user" && s.followed)).toBe(true);
  });

  test("a journey by instance ID is the chat's shopper", async () => {
    const chat = leads.find((l) => l.lead.kind === "chat")!;
    const res = await t.admin(
      `/journey?accountId=${ACCOUNT}&instanceId=${encodeURIComponent(chat.lead.body.instance_id as string)}`,
    );
    const journey = (await res.json()) as Journey;
    expect(journey.deviceIds.sort()).toEqual([...chat.shopper!.devices].sort());
  });

  test("lists every lead with its first- and last-touch campaign, and unmatched calls as unmatched", async () => {
    const page = (await (
      await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
    ).json()) as LeadPage;
    expect(page.leads.map((l) => l.lead.eventId).sort()).toEqual(
      leads.map((l) => l.eventId).sort(),
    );
    for (const summary of page.leads) {
      const planted = leads.find((l) => l.eventId === summary.lead.eventId)!;
      if (!planted.shopper) {
        expect(summary.matched).toBe(false);
        expect(["never_seen", "only_shared"]).toContain(summary.unmatchedReason!);
        expect(summary.firstTouch).toBeNull();
        continue;
      }
      const visits = planted.shopper.visits;
      expect(summary).toMatchObject({
        matched: true,
        unmatchedReason: null,
        devices: planted.shopper.devices.length,
        visitsBefore: visits.length,
      });
      expect(summary.firstTouch!.utm.campaign).toBe(visits[0]!.campaign);
      expect(summary.lastTouch!.utm.campaign).toBe(visits.at(-1)!.campaign);
    }
  });

  test("pages through leads and downloads them as CSV and NDJSON", async () => {
    const first = (await (await t.admin(`/leads?accountId=${ACCOUNT}&limit=7`)).json()) as LeadPage;
    expect(first.leads).toHaveLength(7);
    const second = (await (
      await t.admin(`/leads?accountId=${ACCOUNT}&limit=7&after=${first.next}`)
    ).json()) as LeadPage;
    expect(second.leads[0]!.lead.eventId > first.leads[6]!.lead.eventId).toBe(true);

    const csv = await t.admin(`/leads.csv?accountId=${ACCOUNT}&limit=10000`);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const rows = (await csv.text()).trimEnd().split("\r\n");
    expect(rows[0]!.split(",").slice(0, 3)).toEqual(["event_id", "occurred_at", "tracker_id"]);
    expect(rows).toHaveLength(leads.length + 1);
    const ndjson = (await (await t.admin(`/leads.ndjson?accountId=${ACCOUNT}&limit=10000`)).text())
      .trimEnd()
      .split("\n");
    expect(ndjson).toHaveLength(leads.length);
    expect(JSON.parse(ndjson[0]!).lead.accountId).toBe(ACCOUNT);
  });

  test("answers bad queries with 400 and unknown events with 404", async () => {
    for (const q of [
      `accountId=${ACCOUNT}`,
      `accountId=${ACCOUNT}&eventId=x&instanceId=y`,
      "accountId=not-an-id&instanceId=x",
    ])
      expect((await t.admin(`/journey?${q}`)).status).toBe(400);
    expect(
      (await t.admin(`/journey?accountId=${ACCOUNT}&eventId=01a2b3c4-0000-7000-8000-000000000000`))
        .status,
    ).toBe(404);
    expect((await t.admin(`/journey?accountId=2&eventId=${leads[0]!.eventId}`)).status).toBe(404); // another account's event
    expect((await t.admin(`/leads?accountId=${ACCOUNT}&from=yesterday`)).status).toBe(400);
    expect(
      (await t.admin(`/leads?accountId=${ACCOUNT}&from=2026-12-01&to=2026-11-01`)).status,
    ).toBe(400);
    expect(
      (await t.admin(`/leads?accountId=${ACCOUNT}&from=2020-01-01&to=2020-02-01`)).status,
    ).toBe(200);
  });
});
