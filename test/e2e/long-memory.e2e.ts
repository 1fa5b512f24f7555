/**
 * The long memory of visits with the real Web SDK in Chromium: a shopper lands from a Google
 * Ads link (gclid and UTM) and starts a chat; retention deletes the visit's raw events a week
 * later; the chat's lead arrives 60 days after the visit, and its first touch is still that
 * visit, with its gclid and campaign. The app runs in process on a clock the test moves (its
 * store makes its own event IDs, so any clock will do), served over HTTP to Chromium.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { randomUUID } from "node:crypto";
import type { Browser } from "playwright-core";
import { buildSdk } from "../../scripts/sdk.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import type { Journey } from "../../server/journey/journey.ts";
import { Retention } from "../../server/store/retention.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { waitFor } from "../helpers/ports.ts";
import { createTestApp, type TestApp } from "../helpers/test-app.ts";

const DAY = 86_400_000;
// 70 days ago, so the lead 60 days after the visit is still in the past.
const VISIT_AT = Date.now() - 70 * DAY;
const ACCOUNT = randomUUID();
const CHAT = `chat-${randomUUID()}`;
let clock = VISIT_AT;
let t: TestApp;
let trackd: Server<unknown>;
let site: Server<unknown>;
let browser: Browser;

beforeAll(async () => {
  t = await createTestApp({}, { now: () => clock });
  const sdk = await buildSdk();
  trackd = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      new URL(req.url).pathname === "/sdk.js"
        ? new Response(sdk, { headers: { "content-type": "text/javascript" } })
        : t.app.handle(req),
  });
  site = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () =>
      new Response(
        `<!doctype html><html><head><title>Fall truck event</title>
<script>
  window.trackd = window.trackd || function () { (trackd.q = trackd.q || []).push(arguments); };
  trackd('init', { endpoint: '${trackd.url.origin}', aid: '${ACCOUNT}', tid: '1', flushIntervalMs: 50 });
  trackd('setInstanceId', '${CHAT}');
</script>
<script async src="${trackd.url.origin}/sdk.js"></script>
</head><body><h1>2024 F-150</h1></body></html>`,
        { headers: { "content-type": "text/html" } },
      ),
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  await trackd?.stop(true);
  await site?.stop(true);
  await t?.close();
});

test("a lead 60 days after a Google Ads visit finds it, after retention deleted the visit's raw events", async () => {
  const page = await browser.newPage();
  const watched = watchPage(page);
  await page.goto(
    `${site.url.origin}/trucks?utm_source=google&utm_medium=cpc&utm_campaign=fall-trucks&gclid=Cj0KCQiA-e2e-60-days`,
    { referer: "https://www.google.com/" },
  );
  await waitFor("the page view", () => t.store.events.count() >= 1);
  await page.close();
  expect(watched.errors).toEqual([]);

  clock = VISIT_AT + 8 * DAY;
  const deleted = await new Retention(t.store, {
    retentionMs: 7 * DAY,
    lookbackMs: 90 * DAY,
    capBytes: 0,
    minCursor: () => null,
    log: createLog("error"),
    now: () => clock,
  }).sweep();
  expect(deleted).toBeGreaterThanOrEqual(1);
  expect(t.store.events.count()).toBe(0);

  clock = VISIT_AT + 60 * DAY;
  const res = await t.collect(
    { action: "submit", object: "lead", vendor: "Chat Co", product: "Chat", instance_id: CHAT },
    { aid: ACCOUNT, tid: "1" },
  );
  expect(res.status).toBe(204);
  const leads = (await (await t.admin(`/leads?accountId=${ACCOUNT}`)).json()) as LeadPage;
  expect(leads.leads).toHaveLength(1);
  const [lead] = leads.leads;
  expect(lead!.matched).toBe(true);
  expect(lead!.firstTouch?.clickIds.gclid).toBe("Cj0KCQiA-e2e-60-days");
  expect(lead!.firstTouch?.utm).toMatchObject({ source: "google", campaign: "fall-trucks" });
  expect(lead!.firstTouch?.referrer).toBe("https://www.google.com/");

  const journey = (await (
    await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${lead!.lead.eventId}`)
  ).json()) as Journey;
  expect(journey.visits).toHaveLength(1);
  expect(journey.visits[0]!.events).toEqual([]); // only the summary is left
  expect(journey.visits[0]!.pageViews).toBe(1);
});
