/**
 * Consent in real Chromium against the compiled binary: a page that says the shopper denied
 * analytics and ads leaves no device ID in the browser and its events carry the choice; a
 * browser sending Global Privacy Control has its events stored with ads denied.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { Server } from "bun";
import { adminAuth, killAll, startFreshBinary, type Running } from "../helpers/binary.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { waitFor } from "../helpers/ports.ts";

let trackd: Running;
let site: Server<unknown>;
let browser: Browser;

type Stored = { instanceId: string; context: { consent?: Record<string, unknown> } };

async function eventsOf(instanceId: string): Promise<Stored[]> {
  const res = await fetch(
    `${trackd.url}/admin/api/events?accountId=1001&instanceId=${instanceId}`,
    { headers: adminAuth },
  );
  return ((await res.json()) as { events: Stored[] }).events;
}

beforeAll(async () => {
  trackd = await startFreshBinary();
  site = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const params = new URL(req.url).searchParams;
      const consent = params.get("consent");
      return new Response(
        `<!doctype html><html><head><title>VDP</title><script>
  window.trackd = window.trackd || function () { (trackd.q = trackd.q || []).push(arguments); };
  trackd('init', { endpoint: '${trackd.url}', aid: '1001', tid: '1' });
  ${consent ? `trackd('consent', ${consent});` : ""}
  trackd('setInstanceId', '${params.get("chat")}');
</script><script async src="${trackd.url}/sdk.js"></script></head><body>VDP</body></html>`,
        { headers: { "content-type": "text/html" } },
      );
    },
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  killAll();
});

describe("consent in the browser", () => {
  test("analytics and ads denied: no device ID stays in the browser; events carry the choice", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const chat = crypto.randomUUID();
    const consent = encodeURIComponent(JSON.stringify({ analytics: "denied", ads: "denied" }));
    await page.goto(`${site.url}vdp?chat=${chat}&consent=${consent}`);
    await waitFor("the page view", async () => (await eventsOf(chat)).length > 0, 20000);
    const kept = await page.evaluate(() => Object.keys(localStorage).sort());
    expect(kept).not.toContain("trackd.device");
    expect(kept).not.toContain("trackd.visit");
    expect(kept).toContain("trackd.consent");
    expect((await eventsOf(chat))[0]!.context.consent).toEqual({
      analytics: "denied",
      ads: "denied",
    });
    await context.close();
  });

  test("a browser sending Global Privacy Control has ads denied", async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { "Sec-GPC": "1" } });
    const page = await context.newPage();
    const chat = crypto.randomUUID();
    await page.goto(`${site.url}vdp?chat=${chat}`);
    await waitFor("the page view", async () => (await eventsOf(chat)).length > 0, 20000);
    expect((await eventsOf(chat))[0]!.context.consent).toEqual({ ads: "denied", gpc: true });
    // Without a choice, the device ID is kept as before.
    expect(await page.evaluate(() => localStorage.getItem("trackd.device"))).not.toBeNull();
    await context.close();
  });
});
