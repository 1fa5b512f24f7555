/**
 * Bots in real Chromium against the compiled binary: a dealership page with the README's Web
 * SDK snippet, landed on from a Google ad, is opened by a shopper's Chromium and by headless
 * Chromium as automation leaves it; a crawler's user agent arrives by curl; a chat vendor sends a
 * lead on each one's instance ID. Only the shopper is a shopper: the bots' events are stored
 * flagged, and their leads find no visit, on the API and on the Leads and Attribution pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Server } from "bun";
import type { AttributionAnswer } from "../../server/journey/attribution.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import {
  adminAuth,
  BINARY_TOKEN,
  killAll,
  startFreshBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, loggedInPage, watchPage } from "../helpers/browser.ts";
import { waitFor } from "../helpers/ports.ts";
import { requireCommand } from "../helpers/system-package.ts";

const ACCOUNT = "1001";
const artifacts = join(import.meta.dir, "artifacts");
let trackd: Running;
let site: Server<unknown>;
let shopperBrowser: Browser;
let botBrowser: Browser;
const leads: Record<string, string> = {};

type Stored = {
  eventId: string;
  action: string;
  instanceId: string;
  context: { bot?: { reason: string } };
};

/**
 * The account's events on an instance ID, from the newest 500 (a bot's events are in the list,
 * but, linking nothing, not under the instance ID filter).
 */
async function eventsOf(instanceId: string): Promise<Stored[]> {
  const res = await fetch(`${trackd.url}/admin/api/events?accountId=${ACCOUNT}&limit=500`, {
    headers: adminAuth,
  });
  return ((await res.json()) as { events: Stored[] }).events.filter(
    (e) => e.instanceId === instanceId,
  );
}

/** Opens the ad's landing page in `browser` as chat `chat`, and waits for its page view. */
async function visit(browser: Browser, chat: string): Promise<void> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(
    `${site.url}vdp?chat=${chat}&utm_source=google&utm_medium=cpc&gclid=EAIa${chat.slice(0, 6)}`,
  );
  await waitFor("the page view", async () => (await eventsOf(chat)).length > 0, 20000);
  await context.close();
}

async function lead(chat: string): Promise<string> {
  const res = await fetch(`${trackd.url}/collect/${ACCOUNT}/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      action: "submit",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat",
      instance_id: chat,
    }),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  trackd = await startFreshBinary();
  site = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const chat = new URL(req.url).searchParams.get("chat") ?? "";
      return new Response(
        `<!doctype html><html><head><title>2021 Honda Accord</title><script>
  window.trackd = window.trackd || function () { (trackd.q = trackd.q || []).push(arguments); };
  trackd('init', { endpoint: '${trackd.url}', aid: '${ACCOUNT}', tid: '1' });
  trackd('setInstanceId', '${chat}');
  trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP', label: '2021 Honda Accord' });
</script><script async src="${trackd.url}/sdk.js"></script></head><body><h1>2021 Honda Accord</h1></body></html>`,
        { headers: { "content-type": "text/html" } },
      );
    },
  });
  shopperBrowser = await launchBrowser();
  botBrowser = await launchBrowser({ as: "bot" });
  for (const [who, browser] of [
    ["shopper", shopperBrowser],
    ["headless", botBrowser],
  ] as const) {
    const chat = crypto.randomUUID();
    await visit(browser, chat);
    leads[who] = await lead(chat);
  }
  // A crawler that runs pages' scripts, as curl shows it: Googlebot's user agent, an Origin.
  const crawlerChat = crypto.randomUUID();
  const curl = Bun.spawnSync([
    requireCommand("curl", "curl"),
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    "-A",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "-H",
    `Origin: ${site.url.origin}`,
    "-H",
    "Content-Type: text/plain",
    "--data-raw",
    JSON.stringify({
      action: "view",
      object: "vehicle",
      vendor: "Website",
      product: "VDP",
      instance_id: crawlerChat,
      pageUrl: `${site.url.origin}/vdp?utm_source=google&utm_medium=cpc`,
      deviceId: crypto.randomUUID(),
      visitId: crypto.randomUUID(),
    }),
    `${trackd.url}/collect/${ACCOUNT}/1/event?sdk=web-0.2.0`,
  ]);
  expect(curl.stdout.toString()).toBe("204");
  leads.crawler = await lead(crawlerChat);
}, 300000);

afterAll(async () => {
  await shopperBrowser?.close();
  await botBrowser?.close();
  site?.stop(true);
  killAll();
});

describe("bots", () => {
  test("the shopper's events are not flagged; the bots' are, with the reason", async () => {
    const page = await fetch(`${trackd.url}/admin/api/leads?accountId=${ACCOUNT}`, {
      headers: adminAuth,
    });
    const byLead = new Map(((await page.json()) as LeadPage).leads.map((l) => [l.lead.eventId, l]));
    const shopper = byLead.get(leads.shopper!)!;
    expect(shopper.matched).toBe(true);
    expect(shopper.firstTouch?.utm.source).toBe("google");
    for (const bot of ["headless", "crawler"]) {
      const l = byLead.get(leads[bot]!)!;
      expect([bot, l.matched, l.firstTouch]).toEqual([bot, false, null]);
    }
    const reasons = async (leadId: string) => {
      const instance = byLead.get(leadId)!.lead.instanceId;
      return (await eventsOf(instance))
        .filter((e) => e.action === "view")
        .map((e) => e.context.bot?.reason ?? "none")
        .filter((r, i, all) => all.indexOf(r) === i); // the SDK's page view and the page's own
    };
    expect(await reasons(leads.shopper!)).toEqual(["none"]);
    expect(await reasons(leads.headless!)).toEqual(["webdriver"]);
    expect(await reasons(leads.crawler!)).toEqual(["crawler"]);
  });

  test("attribution credits the shopper's campaign only", async () => {
    const res = await fetch(`${trackd.url}/admin/api/attribution?accountId=${ACCOUNT}`, {
      headers: adminAuth,
    });
    const a = (await res.json()) as AttributionAnswer;
    expect([a.leads, a.matched]).toEqual([3, 1]);
    expect(a.rows.find((r) => r.source === "google")?.leads).toBe(1);
  });

  for (const width of [1280, 390])
    test(`the Overview counts the bots; Leads and Attribution match one lead of three (${width} px)`, async () => {
      const page = await loggedInPage(shopperBrowser, trackd.url, BINARY_TOKEN, width);
      const watched = watchPage(page);
      // The Overview's Bots column: the headless browser's two page views and the crawler's one.
      await page.getByRole("columnheader", { name: "Bots" }).waitFor();
      const botsCell = () =>
        page.evaluate(() => {
          const table = [...document.querySelectorAll("table")].find((t) =>
            [...t.querySelectorAll("th")].some((th) => th.textContent?.trim() === "Bots"),
          );
          const column = [...table!.querySelectorAll("th")].findIndex(
            (th) => th.textContent?.trim() === "Bots",
          );
          return table!.querySelector("tbody tr")?.children[column]?.textContent ?? null;
        });
      await waitFor("the bots count", async () => (await botsCell()) === "3", 10000);
      await page.goto(`${trackd.url}/admin#/leads?accountId=${ACCOUNT}`);
      await page.getByRole("button", { name: "Show leads" }).click();
      await page.getByText("3 leads, 1 matched to a shopper").waitFor();
      await page.screenshot({ path: join(artifacts, `bots-leads-${width}.png`), fullPage: true });
      await page.goto(`${trackd.url}/admin#/attribution?accountId=${ACCOUNT}`);
      await page.getByRole("button", { name: "Show", exact: true }).click();
      await page.getByText("3 leads, 1 matched to a visit").waitFor();
      await page.screenshot({
        path: join(artifacts, `bots-attribution-${width}.png`),
        fullPage: true,
      });
      expect(watched.errors).toEqual([]);
      await page.close();
    });
});
