/**
 * Bots flagged, never dropped: browser events from a known crawler, a headless browser or one
 * driven by automation are stored with the reason and counted (Overview, /metrics), and link
 * nothing, so a lead on the same instance ID finds no shopper; a shopper's browser is not
 * flagged, and neither is a vendor's back end, however machine-like its user agent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LeadPage } from "../../server/journey/leads.ts";
import { adVisitThenLead, BASE, createTestApp, type TestApp } from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const GOOGLEBOT =
  "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.204 Safari/537.36";
const HEADLESS =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";

/** A visit from a Google ad by `userAgent` (`query` after ?sdk=), then a vendor's lead on it. */
const visitThenLead = (t: TestApp, userAgent: string, query = "") =>
  adVisitThenLead(t, ACCOUNT, `Cj0K${crypto.randomUUID().slice(0, 6)}`, {
    headers: { "user-agent": userAgent },
    query,
  });

async function leadSummary(t: TestApp, leadId: string) {
  const page = (await (
    await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
  ).json()) as LeadPage;
  return page.leads.find((l) => l.lead.eventId === leadId)!;
}

describe("bots", () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  test("a shopper's browser is not flagged, and its lead finds the ad click", async () => {
    const { view, lead } = await visitThenLead(t, CHROME);
    expect(view.context.bot).toBeUndefined();
    expect(lead.context.bot).toBeUndefined(); // a vendor's back end is no crawler
    const summary = await leadSummary(t, lead.eventId);
    expect(summary.matched).toBe(true);
    expect(summary.firstTouch?.utm.source).toBe("google");
  });

  for (const [name, userAgent, query, reason] of [
    ["a crawler", GOOGLEBOT, "", "crawler"],
    ["a headless browser", HEADLESS, "", "headless"],
    ["a browser driven by automation", CHROME, "&oa_webdriver=1", "webdriver"],
  ] as const)
    test(`${name} is stored flagged, and its visit is in no lead's journey`, async () => {
      const { view, lead } = await visitThenLead(t, userAgent, query);
      expect(view.context.bot).toMatchObject({ reason, excluded: true });
      const summary = await leadSummary(t, lead.eventId);
      expect(summary.matched).toBe(false);
      expect(summary.firstTouch).toBeNull();
      const journey = (await (
        await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${lead.eventId}`)
      ).json()) as { events: { eventId: string }[] };
      expect(journey.events.map((e) => e.eventId)).not.toContain(view.eventId);
      // Still stored, and listed with the events.
      expect((await t.admin(`/events/${view.eventId}`)).status).toBe(200);
    });

  test("counted per tracker on the Overview and by reason in /metrics", async () => {
    await t.store.stats.flush();
    const overview = (await (await t.admin("/overview")).json()) as {
      trackers: { trackerId: string; bots?: number }[];
    };
    expect(overview.trackers.find((x) => x.trackerId === "1")!.bots).toBe(3);
    const metrics = await (await t.app.handle(new Request(`${BASE}/metrics`))).text();
    for (const reason of ["crawler", "headless", "webdriver"])
      expect(metrics).toContain(`trackd_bot_requests_total{reason="${reason}"} 1`);
  });
});

describe("bots with journey.includeBots", () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ journey: { includeBots: true } })));
  afterAll(() => t.close());

  test("are flagged, and link like any other", async () => {
    const { view, lead } = await visitThenLead(t, GOOGLEBOT);
    expect(view.context.bot).toMatchObject({ reason: "crawler", excluded: false });
    expect((await leadSummary(t, lead.eventId)).matched).toBe(true);
  });
});
