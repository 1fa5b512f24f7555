/**
 * Attribution's inputs: placeholder identifiers never join two shoppers, a device two shoppers
 * logged in on (a showroom tablet) does not join them while a shopper's own second device
 * still does; every unmatched lead says why; a visit from the site itself is not a touch.
 * Events are posted as the Web SDK and vendors' servers send them, with UUID account, device
 * and instance IDs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { Journey } from "../../server/journey/journey.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import { isJunkIdentifier } from "../../server/journey/junk-identifiers.ts";
import { sha256 } from "../helpers/shoppers.ts";
import { createTestApp, type TestApp } from "../helpers/test-app.ts";

const ACCOUNT = randomUUID();
let t: TestApp;

/**
 * One visit of a device, as the Web SDK sends it: a page view, then a vehicle. By default it
 * lands from Google on a campaign link; `arrival` gives another landing page and referrer.
 */
async function visit(
  device: string,
  campaign: string,
  identity: Record<string, string>,
  instanceId = randomUUID(),
  arrival = {
    pageUrl: `https://dealer.example/inventory?utm_source=google&utm_medium=cpc&utm_campaign=${campaign}`,
    referrer: "https://www.google.com/",
  },
): Promise<void> {
  const common = { deviceId: device, visitId: randomUUID(), ...arrival, ...identity };
  const events = [
    {
      action: "view",
      object: "page",
      vendor: "Dealer Site",
      product: "Web SDK",
      instance_id: instanceId,
      ...common,
    },
    {
      action: "view",
      object: "vehicle",
      vendor: "Dealer Site",
      product: "Web SDK",
      instance_id: instanceId,
      vin: "1FTFW1E50PFA00000",
      ...common,
    },
  ];
  const res = await t.sdkBatch(events, { aid: ACCOUNT });
  expect(res.status).toBe(200);
}

/**
 * A chat that became a lead, from the vendor's server, with the chat's instance ID; `fields`
 * add to it or replace its action and object (an enrichment: `change shopper`).
 */
async function lead(instanceId: string, fields: Record<string, string> = {}): Promise<string> {
  const res = await t.collect(
    {
      action: "submit",
      object: "lead",
      vendor: "Chat Co",
      product: "Chat",
      instance_id: instanceId,
      ...fields,
    },
    { aid: ACCOUNT, tid: "1" },
  );
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

async function journeyOf(eventId: string): Promise<Journey> {
  const res = await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${eventId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Journey;
}

const campaignsOf = (j: Journey) => [...new Set(j.visits.map((v) => v.utm.campaign))].sort();

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("attribution: identities, reasons, touches", () => {
  test("the built-in placeholders are junk in any case and spacing; real values are not", () => {
    for (const v of ["null", " NULL ", "undefined", "Anonymous", "0", "-1", "[object Object]"])
      expect([v, isJunkIdentifier("user", v)]).toEqual([v, true]);
    expect(isJunkIdentifier("instance", "undefined")).toBe(true);
    expect(isJunkIdentifier("email", sha256("none@none.com"))).toBe(true);
    expect(isJunkIdentifier("email", sha256("none@none.com").toUpperCase())).toBe(true);
    expect(isJunkIdentifier("phone", sha256("15555555555"))).toBe(true);
    expect(isJunkIdentifier("phone", sha256("5555555555"))).toBe(true);
    for (const [kind, value] of [
      ["user", "u-1842"],
      ["user", randomUUID()],
      ["email", sha256("shopper@example.com")],
      ["phone", sha256("15550100199")],
      ["device", "null"],
    ] as const)
      expect([kind, value, isJunkIdentifier(kind, value)]).toEqual([kind, value, false]);
  });

  test("two shoppers who typed none@none.com stay apart, and the journey says why", async () => {
    const junk = { emailSha256: sha256("none@none.com") };
    const [deviceA, deviceB, chatA, chatB] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await visit(deviceA, "spring-sale", junk, chatA);
    await visit(deviceB, "winter-trucks", junk, chatB);
    const leadA = await lead(chatA, junk);
    const leadB = await lead(chatB, { ...junk, userId: "anonymous" });

    const a = await journeyOf(leadA);
    expect(a.deviceIds).toEqual([deviceA]);
    expect(campaignsOf(a)).toEqual(["spring-sale"]);
    expect(a.why).toContainEqual(
      expect.objectContaining({
        kind: "email",
        value: junk.emailSha256,
        followed: false,
        reason: "junk",
      }),
    );
    const b = await journeyOf(leadB);
    expect(b.deviceIds).toEqual([deviceB]);
    expect(b.leads.map((l) => l.eventId)).toEqual([leadB]);
    expect(b.why).toContainEqual(
      expect.objectContaining({
        kind: "user",
        value: "anonymous",
        followed: false,
        reason: "junk",
      }),
    );
  });

  test("an account's own placeholders (registry, admin API) keep shoppers apart from then on", async () => {
    const staff = { phoneSha256: sha256("15125550100") }; // the showroom's phone, typed by staff
    const [deviceE, deviceF, chatE, chatF] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await visit(deviceE, "trade-in", staff, chatE);
    await visit(deviceF, "lease-deals", staff, chatF);
    const leadE = await lead(chatE, staff);
    // Before: the shared phone joins the two shoppers (under the bound of 5).
    expect((await journeyOf(leadE)).deviceIds.sort()).toEqual([deviceE, deviceF].sort());

    const put = await t.adminPut(`/registry/accounts/${ACCOUNT}`, {
      name: "Lakeside Ford",
      junkIdentifiers: ["(512) 555-0100", "Walk-In"],
    });
    expect(put.status).toBe(200);
    const after = await journeyOf(leadE);
    expect(after.deviceIds).toEqual([deviceE]);
    expect(after.why).toContainEqual(
      expect.objectContaining({ kind: "phone", value: staff.phoneSha256, reason: "junk" }),
    );
    // A rename keeps the list; "walk-in" is junk as a user ID in any case (for this account).
    await t.adminPut(`/registry/accounts/${ACCOUNT}`, { name: "Lakeside Ford Lincoln" });
    const walkIn = await lead(randomUUID(), { userId: "WALK-IN" });
    expect((await journeyOf(walkIn)).why).toContainEqual(
      expect.objectContaining({ kind: "user", value: "WALK-IN", reason: "junk" }),
    );
    // Not on the built-in list: other accounts' journeys still follow these values.
    expect(isJunkIdentifier("phone", staff.phoneSha256)).toBe(false);
    expect(isJunkIdentifier("user", "walk-in")).toBe(false);
  });

  test("a showroom tablet two shoppers logged in on does not join them; each one's own devices still do", async () => {
    const tablet = randomUUID();
    const [phoneC, laptopC, phoneD, chatC, chatD] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const c = { userId: `u-${randomUUID()}`, emailSha256: sha256("carla@example.com") };
    const d = { userId: `u-${randomUUID()}`, emailSha256: sha256("dmitri@example.com") };
    await visit(phoneC, "spring-sale", c, chatC);
    await visit(laptopC, "retargeting", { userId: c.userId }); // C's second device, logged in
    await visit(tablet, "showroom", c);
    await visit(tablet, "showroom", d);
    await visit(phoneD, "winter-trucks", d, chatD);
    const leadC = await lead(chatC);
    const leadD = await lead(chatD);

    const jc = await journeyOf(leadC);
    expect([...jc.deviceIds].sort()).toEqual([laptopC, phoneC, tablet].sort());
    expect(jc.identifiers.map((i) => i.value)).not.toContain(d.userId);
    expect(campaignsOf(jc)).toEqual(["retargeting", "showroom", "spring-sale"]);
    // Only C's own events on the tablet: found through C's user ID.
    for (const e of jc.events) expect(e.properties.userId ?? c.userId).toBe(c.userId);
    expect(jc.why).toContainEqual(
      expect.objectContaining({
        kind: "device",
        value: tablet,
        followed: false,
        reason: "conflicting_identity",
      }),
    );
    expect(jc.truncated).toBe(true);

    const jd = await journeyOf(leadD);
    expect(jd.deviceIds).not.toContain(phoneC);
    expect(jd.deviceIds).not.toContain(laptopC);
    expect(jd.leads.map((l) => l.eventId)).toEqual([leadD]);
  });

  test("with oneIdentityPerDevice off, the tablet is followed (the rule is what keeps them apart)", async () => {
    const off = await createTestApp({ journey: { oneIdentityPerDevice: false } });
    try {
      const saved = t;
      t = off;
      const tablet = randomUUID();
      const [phoneC, phoneD, chatC] = [randomUUID(), randomUUID(), randomUUID()];
      const c = { userId: `u-${randomUUID()}` };
      const d = { userId: `u-${randomUUID()}` };
      await visit(phoneC, "spring-sale", c, chatC);
      await visit(tablet, "showroom", c);
      await visit(tablet, "showroom", d);
      await visit(phoneD, "winter-trucks", d);
      const jc = await journeyOf(await lead(chatC));
      t = saved;
      expect(jc.deviceIds).toContain(phoneD);
    } finally {
      await off.close();
    }
  });

  test("every unmatched lead says why", async () => {
    const never = await lead(randomUUID());
    const onlyJunk = await lead(randomUUID(), { phoneSha256: sha256("15555555555") });
    const call = randomUUID();
    await lead(call); // an earlier call with the same instance ID, no visit
    const noVisits = await lead(call);
    const late = randomUUID();
    const visitsAfter = await lead(late);
    await Bun.sleep(5); // the visit begins in a later millisecond than the lead
    await visit(randomUUID(), "too-late", {}, late);
    const matched = await lead(late);

    const page = (await (
      await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
    ).json()) as LeadPage;
    const reason = (id: string) => page.leads.find((l) => l.lead.eventId === id)!;
    expect(reason(never)).toMatchObject({ matched: false, unmatchedReason: "never_seen" });
    expect(reason(onlyJunk)).toMatchObject({ matched: false, unmatchedReason: "only_shared" });
    expect(reason(noVisits)).toMatchObject({ matched: false, unmatchedReason: "no_visits" });
    expect(reason(visitsAfter)).toMatchObject({
      matched: false,
      unmatchedReason: "visits_after_lead",
      firstTouch: null,
    });
    expect(reason(matched)).toMatchObject({ matched: true, unmatchedReason: null });
    const csv = await (await t.admin(`/leads.csv?accountId=${ACCOUNT}&limit=10000`)).text();
    const [header, ...rows] = csv.trim().split("\r\n");
    const at = header!.split(",").indexOf("unmatched_reason");
    expect(rows.find((r) => r.startsWith(visitsAfter))!.split(",")[at]).toBe("visits_after_lead");
  });

  test("a visit whose referrer is the site itself is internal: not the lead's touch while a real arrival is", async () => {
    const [device, chat] = [randomUUID(), randomUUID()];
    await visit(device, "spring-sale", {}, chat);
    // Site data cleared mid-visit: a new visit that "arrives" from the site's own search page.
    await visit(device, "", {}, chat, {
      pageUrl: "https://dealer.example/finance",
      referrer: "https://dealer.example/search?q=f-150",
    });
    const leadId = await lead(chat);
    const journey = await journeyOf(leadId);
    expect(journey.visits.map((v) => [v.utm.campaign ?? null, v.internal])).toEqual([
      ["spring-sale", false],
      [null, true],
    ]);
    const page = (await (
      await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
    ).json()) as LeadPage;
    const summary = page.leads.find((l) => l.lead.eventId === leadId)!;
    expect(summary.visitsBefore).toBe(2);
    expect(summary.firstTouch).toMatchObject({ utm: { campaign: "spring-sale" }, internal: false });
    expect(summary.lastTouch).toMatchObject({ utm: { campaign: "spring-sale" }, internal: false });
  });

  test("an enrichment (change shopper, change lead) is never a lead, and its identifiers join the journey", async () => {
    const [device, chat] = [randomUUID(), randomUUID()];
    const email = { emailSha256: sha256(`${randomUUID()}@example.com`) };
    await visit(device, "spring-sale", {}, chat);
    const leadId = await lead(chat);
    // Later, on another device, the shopper is known by email only.
    const laptop = randomUUID();
    await visit(laptop, "retargeting", email);
    for (const object of ["shopper", "lead"])
      await lead(chat, { action: "change", object, ...email });
    const journey = await journeyOf(leadId);
    expect(journey.leads.map((l) => l.eventId)).toEqual([leadId]);
    expect([...journey.deviceIds].sort()).toEqual([device, laptop].sort());
    const page = (await (
      await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
    ).json()) as LeadPage;
    const mine = page.leads.filter((l) => l.lead.instanceId === chat);
    expect(mine.map((l) => l.lead.eventId)).toEqual([leadId]);
  });
});
