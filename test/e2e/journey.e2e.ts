/**
 * From a lead to the shopper, end to end against the compiled binary: three shoppers browse a
 * dealership page in Chromium with the real Web SDK (campaign links, a second visit from
 * another site, a chat, identify, hostile values), 60 more are posted directly as the SDK
 * would send them (test/helpers/shoppers.ts), and vendors' servers send the leads. The API
 * finds every planted join; the admin page opens a lead's journey with its visits and
 * campaign, at 1280 and 390 px, and shows hostile values as text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Server } from "bun";
import type { Journey } from "../../server/journey/journey.ts";
import type { LeadPage } from "../../server/journey/leads.ts";
import {
  adminAuth,
  BINARY_TOKEN,
  killAll,
  startFreshBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { waitFor } from "../helpers/ports.ts";
import { planShoppers, sha256 } from "../helpers/shoppers.ts";
import { BROWSER_UA } from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const XSS = '<img src=x onerror="window.__xss=1">';
const artifacts = join(import.meta.dir, "artifacts");
let trackd: Running;
let site: Server<unknown>;
let browser: Browser;

async function api<T>(path: string): Promise<T> {
  return (await (
    await fetch(`${trackd.url}/admin/api${path}`, { headers: adminAuth })
  ).json()) as T;
}

async function lead(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${trackd.url}/collect/${ACCOUNT}/7/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

/** A dealership page with the SDK; `script` runs once it has loaded. */
async function visit(
  context: BrowserContext,
  path: string,
  script: string,
  referer?: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(
    `${site.url}${path.replace(/^\//, "")}${path.includes("?") ? "&" : "?"}script=${encodeURIComponent(script)}`,
    referer ? { referer } : {},
  );
  await page.waitForFunction(
    () => (window as unknown as { trackd?: { loaded?: boolean } }).trackd?.loaded === true,
  );
  await page.evaluate(() => (window as unknown as { trackd: (c: string) => void }).trackd("flush"));
  return page;
}

const sdkEvents = async (deviceQuery: string) =>
  (
    await api<{ events: { properties: Record<string, unknown> }[] }>(
      `/events?accountId=${ACCOUNT}&${deviceQuery}&limit=500`,
    )
  ).events;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  trackd = await startFreshBinary();
  site = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const script = new URL(req.url).searchParams.get("script") ?? "";
      const html = `<!doctype html><html><head><title>Main Street Motors</title><script>
  window.trackd = window.trackd || function () { (trackd.q = trackd.q || []).push(arguments); };
  trackd('init', { endpoint: '${trackd.url}', aid: '${ACCOUNT}', tid: '7', flushIntervalMs: 50 });
</script><script async src="${trackd.url}/sdk.js"></script></head><body><h1>Inventory</h1><script>${script}</script></body></html>`;
      return new Response(html, { headers: { "content-type": "text/html" } });
    },
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  await site?.stop(true);
  killAll();
});

describe("from a lead to the shopper", () => {
  const planted: { eventId: string; devices: number; campaigns: string[]; name: string }[] = [];

  test("joins browser shoppers from Chromium and posted shoppers to their leads", async () => {
    // Shopper A: a Google ad, then back a day later from Facebook, starts a chat.
    const a = await browser.newContext();
    await visit(
      a,
      "/inventory?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale",
      `trackd('track', { action: 'view', object: 'page', vendor: 'Website', product: 'SRP' }); trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP', label: '2021 Honda Accord' });`,
      "https://www.google.com/",
    );
    await visit(
      a,
      "/vdp/1?utm_source=facebook&utm_medium=paid_social&utm_campaign=trucks",
      `trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP', label: '2020 Ford F-150' }); trackd('setInstanceId', 'chat-A-5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11'); trackd('track', { action: 'start', object: 'chat', vendor: 'ChatVendor', product: 'LiveChat' });`,
      "https://www.facebook.com/",
    );
    // Shopper B: identifies with an email; a credit app arrives later with the same email, hashed.
    const b = await browser.newContext();
    await visit(
      b,
      "/inventory?utm_source=autotrader&utm_medium=referral&utm_campaign=b-listing",
      `trackd('identify', { email: ' Pat@Example.com ' }); trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP', label: '2022 Toyota RAV4' });`,
      "https://www.autotrader.com/",
    );
    // Shopper C: hostile values everywhere a page can put them.
    const c = await browser.newContext();
    await visit(
      c,
      `/inventory?utm_source=${encodeURIComponent(XSS)}&utm_campaign=${encodeURIComponent(XSS)}`,
      `trackd('identify', { userId: ${JSON.stringify(XSS)} }); trackd('setInstanceId', 'chat-C'); trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP', label: ${JSON.stringify(XSS)} });`,
      "https://evil.example/?q=<script>alert(1)</script>",
    );

    await waitFor(
      "the browser events",
      async () =>
        (await sdkEvents("instanceId=chat-C")).length > 0 &&
        (await sdkEvents("instanceId=chat-A-5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11")).length > 0 &&
        (await sdkEvents("action=view&vendor=Website")).length >= 5,
    );
    for (const ctx of [a, b, c]) await ctx.close();

    planted.push({
      name: "A",
      eventId: await lead({
        action: "associate",
        object: "lead",
        vendor: "ChatVendor",
        product: "LiveChat",
        instance_id: "chat-A-5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11",
        label: "Chat lead A",
      }),
      devices: 1,
      campaigns: ["spring-sale", "trucks"],
    });
    planted.push({
      name: "B",
      eventId: await lead({
        action: "submit",
        object: "form",
        vendor: "CreditCo",
        product: "Credit app",
        instance_id: "credit-77",
        emailSha256: sha256("pat@example.com"),
      }),
      devices: 1,
      campaigns: ["b-listing"],
    });
    planted.push({
      name: "C",
      eventId: await lead({
        action: "associate",
        object: "lead",
        vendor: "ChatVendor",
        product: "LiveChat",
        instance_id: "chat-C",
        label: XSS,
      }),
      devices: 1,
      campaigns: [XSS],
    });

    // 60 more shoppers, posted as the SDK sends them, with their leads.
    const plan = planShoppers(60, 5, Date.now() - 5 * 86_400_000);
    for (const shopper of plan.shoppers) {
      for (const v of shopper.visits) {
        const res = await fetch(`${trackd.url}/collect/${ACCOUNT}/7/events?sdk=web-0.2.0`, {
          method: "POST",
          // As a shopper's browser sends them (Bun's own user agent is a bot's to trackd).
          headers: { "content-type": "text/plain", "user-agent": BROWSER_UA },
          body: JSON.stringify(v.events),
        });
        expect(((await res.json()) as { accepted: number }).accepted).toBe(v.events.length);
      }
      for (const l of shopper.leads)
        planted.push({
          name: `posted ${shopper.index}`,
          eventId: await lead(l.body),
          devices: shopper.devices.length,
          campaigns: shopper.visits.map((v) => v.campaign),
        });
    }

    for (const p of planted) {
      const journey = await api<Journey>(`/journey?accountId=${ACCOUNT}&eventId=${p.eventId}`);
      expect([p.name, journey.deviceIds.length, journey.visits.map((v) => v.utm.campaign)]).toEqual(
        [p.name, p.devices, p.campaigns],
      );
    }
    const a1 = await api<Journey>(`/journey?accountId=${ACCOUNT}&eventId=${planted[0]!.eventId}`);
    expect(a1.visits.map((v) => v.referrer)).toEqual([
      "https://www.google.com/",
      "https://www.facebook.com/",
    ]);
    expect(
      a1.events.every((e) => e.context.source === "browser" || e.eventId === planted[0]!.eventId),
    ).toBe(true);

    const leads = await api<LeadPage>(`/leads?accountId=${ACCOUNT}`);
    expect(leads.leads.find((l) => l.lead.eventId === planted[0]!.eventId)).toMatchObject({
      matched: true,
      firstTouch: { utm: { campaign: "spring-sale" } },
      lastTouch: { utm: { campaign: "trucks" } },
    });
  }, 120000);

  test("a Google Ads click and Meta's cookies reach the lead's first touch, the API and the CSV", async () => {
    const gclid = "Cj0KCQiA-8OtBhDxARIsAEfQxu3yV_WkT7nZ1bq9F2m4dX5pL0s8RkH3aGbTc";
    const context = await browser.newContext();
    const domain = new URL(site.url).hostname;
    await context.addCookies([
      { name: "_fbc", value: "fb.1.1733300000000.IwAR2xYz", domain, path: "/" },
      { name: "_fbp", value: "fb.1.1733300000000.1234567890", domain, path: "/" },
    ]);
    await visit(
      context,
      `/inventory?gclid=${gclid}&utm_source=google&utm_medium=cpc&utm_campaign=ads-click`,
      `trackd('setInstanceId', 'chat-G-3c5d7e9f-1a2b-4c6d-8e0f-a1b2c3d4e5f6'); trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP' });`,
      "https://www.google.com/",
    );
    await context.close();
    const leadId = await lead({
      action: "submit",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat",
      instance_id: "chat-G-3c5d7e9f-1a2b-4c6d-8e0f-a1b2c3d4e5f6",
    });
    const journey = await api<Journey>(`/journey?accountId=${ACCOUNT}&eventId=${leadId}`);
    expect(journey.visits.map((v) => v.clickIds)).toEqual([
      { gclid, fbc: "fb.1.1733300000000.IwAR2xYz", fbp: "fb.1.1733300000000.1234567890" },
    ]);
    const leads = await api<LeadPage>(`/leads?accountId=${ACCOUNT}`);
    expect(leads.leads.find((l) => l.lead.eventId === leadId)).toMatchObject({
      firstTouch: { utm: { campaign: "ads-click" }, clickIds: { gclid } },
      lastTouch: { clickIds: { gclid } },
    });
    const csv = await (
      await fetch(`${trackd.url}/admin/api/leads.csv?accountId=${ACCOUNT}`, { headers: adminAuth })
    ).text();
    const [header, ...rows] = csv.trim().split("\r\n");
    const columns = header!.split(",");
    const row = rows.find((r) => r.startsWith(leadId))!.split(",");
    expect(row[columns.indexOf("first_touch_click_network")]).toBe("google");
    expect(row[columns.indexOf("first_touch_click_id")]).toBe(gclid);
    expect(row[columns.indexOf("first_touch_fbc")]).toBe("fb.1.1733300000000.IwAR2xYz");
  }, 60000);

  for (const width of [1280, 390]) {
    test(`a lead opens its shopper's journey with the visits and campaign, at ${width} px, hostile values inert`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const { dialogs, errors } = watchPage(page);
      await page.goto(`${trackd.url}/admin`);
      await page.getByLabel("Admin token").fill(BINARY_TOKEN);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      await page.goto(`${trackd.url}/admin#/leads?accountId=${ACCOUNT}`);
      const row = page.getByRole("row").filter({ hasText: "Chat lead A" });
      await row.waitFor();
      expect(await row.textContent()).toContain("spring-sale");
      await page.screenshot({ path: join(artifacts, `leads-${width}px.png`), fullPage: true });
      await row.getByRole("link", { name: "Shopper journey" }).click();
      await page.getByRole("heading", { name: "Shopper journey" }).waitFor();
      await page.getByText("campaign: spring-sale").waitFor();
      await page.getByText("campaign: trucks").waitFor();
      expect(await page.locator(".visit").count()).toBe(2);
      expect(
        await page.locator(".card.lead").filter({ hasText: "Chat lead A" }).count(),
      ).toBeGreaterThan(0);
      expect(await page.getByText("https://www.google.com/").count()).toBeGreaterThan(0);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(artifacts, `journey-${width}px.png`), fullPage: true });

      // Shopper C's journey: every hostile value shown as text.
      await page.goto(`${trackd.url}/admin#/journey?accountId=${ACCOUNT}&instanceId=chat-C`);
      await page.getByText(`campaign: ${XSS}`).first().waitFor();
      // The form follows the URL: it names C, and "Show journey" stays on C (not A's event).
      expect(await page.getByLabel("Event ID or instance ID").inputValue()).toBe("chat-C");
      await page.getByRole("button", { name: "Show journey" }).click();
      await page.waitForFunction(() => location.hash.includes("instanceId=chat-C"));
      await page.getByText(`campaign: ${XSS}`).first().waitFor();
      expect(await page.getByText("campaign: spring-sale").count()).toBe(0);
      await page.locator("summary", { hasText: "How it was linked" }).click();
      await page.screenshot({
        path: join(artifacts, `journey-xss-${width}px.png`),
        fullPage: true,
      });
      expect(await page.locator("main img, main script, main iframe").count()).toBe(0);
      expect(
        await page.evaluate(() => (window as unknown as { __xss?: number }).__xss),
      ).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }, 60000);
  }
});
