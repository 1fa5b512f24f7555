/**
 * The Attribution page against the compiled binary: shoppers land from campaigns (posted as the
 * Web SDK sends them, dated over the last four weeks), vendors send their leads, and staff pick
 * the account from the picker (the registry's name, no typing), choose a model, and read the
 * chart and the table, at 1280 and 390 px. The pickers and the Journey page following its URL
 * are checked on the way.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import type { AttributionAnswer } from "../../server/journey/attribution.ts";
import {
  adminAuth,
  BINARY_TOKEN,
  killAll,
  startFreshBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, loggedInPage, watchPage } from "../helpers/browser.ts";

const ACCOUNT = randomUUID();
const OTHER = "1002";
const DAY = 86_400_000;
const artifacts = join(import.meta.dir, "artifacts");
let trackd: Running;
let browser: Browser;
const leadIds: string[] = [];

const CAMPAIGNS = [
  {
    utm: "utm_source=google&utm_medium=cpc&utm_campaign=fall-trucks&gclid=EAIa",
    ref: "https://www.google.com/",
  },
  {
    utm: "utm_source=facebook&utm_medium=paid_social&utm_campaign=suv-event&fbclid=IwAR",
    ref: "https://m.facebook.com/",
  },
  { utm: "", ref: "https://www.cars.com/" },
  { utm: "", ref: "" },
];

async function post(account: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${trackd.url}/collect/${account}/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  trackd = await startFreshBinary();
  const named = await fetch(`${trackd.url}/admin/api/registry/accounts/${ACCOUNT}`, {
    method: "PUT",
    headers: { ...adminAuth, "content-type": "application/json" },
    body: JSON.stringify({ name: "Lakeside Ford", type: "dealership" }),
  });
  expect(named.status).toBeLessThan(300);
  for (let i = 0; i < 24; i++) {
    const c = CAMPAIGNS[i % CAMPAIGNS.length]!;
    const chat = randomUUID();
    const at = Date.now() - (26 - i) * DAY;
    await post(ACCOUNT, {
      action: "view",
      object: "page",
      vendor: "Website",
      product: "Web SDK",
      instance_id: chat,
      deviceId: randomUUID(),
      visitId: randomUUID(),
      pageUrl: `https://lakeside.example/inventory${c.utm ? `?${c.utm}${i}` : ""}`,
      ...(c.ref ? { referrer: c.ref } : {}),
      timestamp: new Date(at).toISOString(),
    });
    leadIds.push(
      await post(ACCOUNT, {
        action: "submit",
        object: "lead",
        vendor: "Chat Co",
        product: "Chat",
        instance_id: chat,
        timestamp: new Date(at + 3_600_000).toISOString(),
      }),
    );
  }
  await post(OTHER, {
    action: "view",
    object: "page",
    vendor: "W",
    product: "P",
    instance_id: "x",
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
});

const loggedIn = (width: number): Promise<Page> =>
  loggedInPage(browser, trackd.url, BINARY_TOKEN, width);

describe("the Attribution page", () => {
  test("the API credits the account's leads by happened date: every lead, each campaign", async () => {
    const res = await fetch(
      `${trackd.url}/admin/api/attribution?accountId=${ACCOUNT}&by=occurred&model=first`,
      { headers: adminAuth },
    );
    const a = (await res.json()) as AttributionAnswer;
    expect(a.leads).toBe(24);
    expect(a.matched).toBe(24);
    const bySource = Object.fromEntries(a.rows.map((r) => [r.source, r.leads]));
    expect(bySource).toEqual({ google: 6, facebook: 6, "cars.com": 6, "(direct)": 6 });
    expect(a.rows.find((r) => r.source === "google")?.network).toBe("google");
  });

  for (const width of [1280, 390])
    test(`picks the account, shows the chart and the table at ${width} px`, async () => {
      const page = await loggedIn(width);
      const watched = watchPage(page);
      await page.goto(`${trackd.url}/admin#/attribution`);
      const input = page.getByLabel("Account ID");
      // The picker offers the registry's account by name, and the one only seen in events.
      await page.waitForFunction(
        () => document.querySelectorAll("#a-account-options option").length >= 2,
      );
      const options = await page
        .locator("#a-account-options option")
        .evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
      expect(options).toContainEqual([ACCOUNT, "Lakeside Ford"]);
      expect(options.map(([v]) => v)).toContain(OTHER);
      expect(await input.inputValue()).toBe(ACCOUNT); // the registry's first, filled in
      await page.getByLabel("Model").selectOption("first");
      await page.getByLabel("Dates are when the lead").selectOption("occurred");
      await page.getByRole("button", { name: "Show" }).click();
      await page.getByText("24 leads, 24 matched").waitFor();
      expect(page.url()).toContain("model=first");
      const rows = page.locator("table tbody tr");
      expect(await rows.count()).toBe(4);
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered (line breaks included), not a DOM node's.
      expect(await rows.first().innerText()).toMatch(/6/);
      expect(await page.locator(".chart .bar").count()).toBeGreaterThanOrEqual(20);
      // Nothing wider than the screen but the chart's own scroller.
      const overflow = await page.evaluate(
        () => document.querySelector("main, section")!.scrollWidth <= window.innerWidth,
      );
      expect(overflow).toBe(true);
      await page.screenshot({ path: join(artifacts, `attribution-${width}.png`), fullPage: true });
      expect(watched.errors).toEqual([]);
      await page.close();
    });

  test("the Journey page follows its URL and picks its account", async () => {
    const page = await loggedIn(1280);
    await page.goto(`${trackd.url}/admin#/journey?accountId=${ACCOUNT}&eventId=${leadIds[0]}`);
    await page
      .getByText(/1 visit/)
      .first()
      .waitFor();
    await page.goto(`${trackd.url}/admin#/journey?accountId=${ACCOUNT}&eventId=${leadIds[1]}`);
    await page.waitForFunction(
      (id) => (document.querySelector("#j-ref") as HTMLInputElement | null)?.value === id,
      leadIds[1],
    );
    expect(await page.getByLabel("Account ID").inputValue()).toBe(ACCOUNT);
    await page.close();
  });
});
