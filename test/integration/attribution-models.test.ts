/**
 * GET /admin/api/attribution: leads per channel under each model, from visits posted as the
 * Web SDK sends them (UUID account, devices and instance IDs): a shopper who came from a Google
 * Ads campaign, then twice directly, then from Facebook, and became a lead; one who came only
 * through a gclid link without UTM; and a lead never seen on the site.
 */
import { beforeAll, afterAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { AttributionAnswer } from "../../server/journey/attribution.ts";
import { Value } from "@sinclair/typebox/value";
import {
  JourneySchema,
  LeadsSchema,
  type JourneyLimits,
  type LeadRule,
} from "../../server/config/schema.ts";
import { leadRule } from "../../server/journey/lead-rule.ts";
import { LeadTouches } from "../../server/journey/lead-touches.ts";
import { waitFor } from "../helpers/ports.ts";
import { sha256 } from "../helpers/shoppers.ts";
import { createTestApp, type TestApp } from "../helpers/test-app.ts";

const ACCOUNT = randomUUID();
const START = Date.parse("2026-10-01T14:00:00Z");
const HOUR = 3_600_000;
let clock = START;
let t: TestApp;

async function visit(device: string, instanceId: string, pageUrl: string, referrer = "") {
  const event = {
    action: "view",
    object: "page",
    vendor: "Dealer Site",
    product: "Web SDK",
    instance_id: instanceId,
    deviceId: device,
    visitId: randomUUID(),
    pageUrl,
    ...(referrer ? { referrer } : {}),
  };
  const res = await t.sdkBatch([event], { aid: ACCOUNT });
  expect(res.status).toBe(200);
  clock += HOUR;
}

async function lead(instanceId: string) {
  const res = await t.collect(
    {
      action: "submit",
      object: "lead",
      vendor: "Chat Co",
      product: "Chat",
      instance_id: instanceId,
    },
    { aid: ACCOUNT, tid: "1" },
  );
  expect(res.status).toBe(204);
  clock += HOUR;
}

const report = async (model: string): Promise<AttributionAnswer> => {
  const res = await t.admin(
    `/attribution?accountId=${ACCOUNT}&from=2026-10-01&to=2026-11-01&model=${model}`,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as AttributionAnswer;
};

/** Credit per "source / medium / campaign", rounded. */
const credit = (a: AttributionAnswer) =>
  Object.fromEntries(
    a.rows.map((r) => [
      `${r.source} / ${r.medium} / ${r.campaign}`,
      Math.round(r.leads * 1000) / 1000,
    ]),
  );

beforeAll(async () => {
  t = await createTestApp({}, { now: () => clock });
  const chat = randomUUID();
  const device = randomUUID();
  const site = "https://dealer.example";
  await visit(
    device,
    chat,
    `${site}/?utm_source=google&utm_medium=cpc&utm_campaign=spring-suv&gclid=EAIaIQ1`,
    "https://www.google.com/",
  );
  await visit(device, chat, `${site}/inventory`);
  await visit(device, chat, `${site}/finance`);
  await visit(device, chat, `${site}/trade-in`, "https://m.facebook.com/");
  await lead(chat);
  const clicked = randomUUID();
  await visit(randomUUID(), clicked, `${site}/?gclid=Cj0KCQ2`, "https://www.google.com/");
  await lead(clicked);
  await lead(randomUUID()); // never seen on the site
});
afterAll(() => t.close());

describe("leads by campaign", () => {
  test("first touch: the Google Ads campaign", async () => {
    const a = await report("first");
    expect(a.leads).toBe(3);
    expect(a.matched).toBe(2);
    expect(credit(a)).toEqual({
      "google / cpc / spring-suv": 1,
      "google / cpc / (none)": 1,
      "(unmatched) / (none) / (none)": 1,
    });
    expect(a.rows.find((r) => r.campaign === "spring-suv")?.network).toBe("google");
  });

  test("last touch: Facebook; last non-direct (the default) skips nothing here", async () => {
    expect(credit(await report("last"))["facebook.com / referral / (none)"]).toBe(1);
    const a = await report("last_non_direct");
    expect(credit(a)["facebook.com / referral / (none)"]).toBe(1);
    const byDefault = (await (
      await t.admin(`/attribution?accountId=${ACCOUNT}&from=2026-10-01&to=2026-11-01`)
    ).json()) as AttributionAnswer;
    expect(byDefault.model).toBe("last_non_direct");
  });

  test("linear and position-based (40/20/40) share the lead across the four visits", async () => {
    expect(credit(await report("linear"))).toEqual({
      "google / cpc / (none)": 1,
      "(unmatched) / (none) / (none)": 1,
      "(direct) / (none) / (none)": 0.5,
      "google / cpc / spring-suv": 0.25,
      "facebook.com / referral / (none)": 0.25,
    });
    expect(credit(await report("position"))).toEqual({
      "google / cpc / (none)": 1,
      "(unmatched) / (none) / (none)": 1,
      "google / cpc / spring-suv": 0.4,
      "facebook.com / referral / (none)": 0.4,
      "(direct) / (none) / (none)": 0.2,
    });
  });

  test("a direct last visit does not take the credit from a campaign under last non-direct", async () => {
    const chat = randomUUID();
    const device = randomUUID();
    await visit(
      device,
      chat,
      "https://dealer.example/?utm_source=bing&utm_medium=cpc&utm_campaign=trucks",
      "https://www.bing.com/",
    );
    await visit(device, chat, "https://dealer.example/contact");
    await lead(chat);
    expect(credit(await report("last_non_direct"))["bing / cpc / trucks"]).toBe(1);
    expect(credit(await report("last"))["(direct) / (none) / (none)"]).toBe(1);
  });

  test("the days say when, the model and range are checked", async () => {
    const a = await report("first");
    expect(a.days[0]!.day).toBe("2026-10-01");
    expect(a.days.every((d) => d.day >= "2026-10-01" && d.day < "2026-11-01")).toBe(true);
    const credited = a.days.flatMap((d) => Object.values(d.bySource)).reduce((x, y) => x + y, 0);
    expect(credited).toBeCloseTo(a.leads);
    const bad = await t.admin(`/attribution?accountId=${ACCOUNT}&model=u-shaped`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("model");
    expect((await t.admin(`/attribution?accountId=not-an-id`)).status).toBe(400);
    expect(
      (await t.admin(`/attribution?accountId=${ACCOUNT}&from=2027-01-01&to=2026-01-01`)).status,
    ).toBe(400);
  });

  test("each lead's touches are kept: worked out again under other rules, and refreshed when the leads API walks the lead", async () => {
    const chat = randomUUID();
    const device = randomUUID();
    await visit(
      device,
      chat,
      "https://dealer.example/?utm_source=yelp&utm_medium=referral&utm_campaign=reviews",
      "https://www.yelp.com/",
    );
    const res = await t.collect(
      {
        action: "submit",
        object: "lead",
        vendor: "Chat Co",
        product: "Chat",
        instance_id: chat,
        phoneSha256: sha256("15125550177"),
      },
      { aid: ACCOUNT, tid: "1" },
    );
    const leadId = res.headers.get("x-event-id")!;
    clock += HOUR;
    expect(credit(await report("first"))["yelp / referral / reviews"]).toBe(1);
    await waitFor(
      "the lead's touches kept",
      () => t.store.events.leadTouches.get(leadId) !== undefined,
    );
    const kept = JSON.parse(t.store.events.leadTouches.get(leadId)!) as {
      channels: { source: string }[];
    };
    expect(kept.channels.map((c) => c.source)).toEqual(["yelp"]);

    // An earlier visit on another device joins the shopper after the lead (its phone, sent later):
    // attribution keeps what it worked out until the lead's journey is walked again.
    const other = randomUUID();
    clock -= 48 * HOUR;
    await visit(
      other,
      randomUUID(),
      "https://dealer.example/?utm_source=google&utm_medium=cpc&utm_campaign=first-click",
      "https://www.google.com/",
    );
    clock += 48 * HOUR;
    await t.collect(
      {
        action: "change",
        object: "shopper",
        vendor: "Website",
        product: "Web SDK",
        instance_id: randomUUID(),
        deviceId: other,
        phoneSha256: sha256("15125550177"),
      },
      { aid: ACCOUNT, tid: "1" },
    );
    expect(credit(await report("first"))["yelp / referral / reviews"]).toBe(1);
    expect(
      (await t.admin(`/leads?accountId=${ACCOUNT}&from=2026-10-01&to=2026-11-01`)).status,
    ).toBe(200);
    await waitFor("the lead's touches refreshed", () =>
      (t.store.events.leadTouches.get(leadId) ?? "").includes("first-click"),
    );
    expect(credit(await report("first"))["google / cpc / first-click"]).toBe(1);

    // Other rules (the phone is the account's placeholder now): worked out again at once.
    const put = await t.adminPut(`/registry/accounts/${ACCOUNT}`, {
      name: "Lakeside",
      junkIdentifiers: ["512-555-0177"],
    });
    expect(put.status).toBe(200);
    const after = credit(await report("first"));
    expect(after["yelp / referral / reviews"]).toBe(1);
    expect(after["google / cpc / first-click"]).toBeUndefined();
  });

  test("a lead's touches are worked out in the background once it has settled", async () => {
    const touches = new LeadTouches({
      reader: t.store.events,
      journey: Value.Default(JourneySchema, {}) as JourneyLimits,
      isLead: leadRule(Value.Default(LeadsSchema, {}) as LeadRule),
      lookbackMs: 90 * 86_400_000,
      db: t.store.events.leadTouches,
      accountRules: () => "[]",
      settleMs: 20,
    });
    const stop = t.store.events.onEvent((e) => touches.stored(e));
    const chat = randomUUID();
    await visit(
      randomUUID(),
      chat,
      "https://dealer.example/?utm_source=cars.com&utm_medium=referral&utm_campaign=listing",
      "https://www.cars.com/",
    );
    const res = await t.collect(
      { action: "submit", object: "lead", vendor: "Chat Co", product: "Chat", instance_id: chat },
      { aid: ACCOUNT, tid: "1" },
    );
    const leadId = res.headers.get("x-event-id")!;
    stop();
    await waitFor("the lead's touches", () => t.store.events.leadTouches.get(leadId) !== undefined);
    const lead = t.store.events.get(leadId)!;
    expect(touches.known(lead)?.map((c) => c.campaign)).toEqual(["listing"]);
  });
});
