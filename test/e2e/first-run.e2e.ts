/**
 * The admin page on a fresh server, as a new user meets it, in real Chromium against the
 * compiled binary: empty pages show how to send the first event to this server (and the
 * curl command shown works when pasted into a shell), the chart makes a handful of events
 * readable, every page fits 1280 and 390 px without sideways scrolling, the Registry edits
 * a tracker's allowed origins and a vendor's products, and Rejected pages back.
 * Screenshots land in test/e2e/artifacts/; with UPDATE_DOC_SCREENSHOTS=1 the README's copies
 * in docs/screenshots/ are refreshed from the same run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import {
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { validEvent } from "../helpers/test-app.ts";

const artifacts = join(import.meta.dir, "artifacts");
const docShots = join(import.meta.dir, "../../docs/screenshots");
/** The screenshots the README shows. */
const FOR_DOCS = new Set([
  "first-run-events",
  "overview-handful",
  "events-detail-390px",
  "registry",
]);
let server: Running;
let browser: Browser;
const TOKEN = "first-run-token";

async function shot(page: Page, name: string): Promise<void> {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_DOC_SCREENSHOTS && FOR_DOCS.has(name)) {
    mkdirSync(docShots, { recursive: true });
    copyFileSync(file, join(docShots, `${name}.png`));
  }
}

/** A logged-in page; `watched` records errors and dismisses dialogs (the Registry test answers them). */
async function open(width: number, watched = true): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const { errors } = watched ? watchPage(page) : { errors: [] };
  await page.goto(`${server.url}/admin`);
  await page.getByLabel("Admin token").fill(TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  return { page, errors };
}

const overflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  server = await startBinary(binary, dir, ["--data-dir", join(dir, "data")], {
    TRACKD_ADMIN_TOKEN: TOKEN,
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
});

describe("a first run", () => {
  test("empty pages show the first event's curl command for this server, and it works as pasted", async () => {
    const { page, errors } = await open(1280);
    const first = page.getByRole("region", { name: "Send the first event" });
    await first.waitFor();
    await page.getByRole("link", { name: "Events" }).click();
    await first.waitFor();
    const curl = (await first.locator("pre").first().textContent())!;
    expect(curl).toContain(
      `'${server.url.replace("127.0.0.1", "127.0.0.1")}/collect/1001/1/event'`,
    );
    expect(await first.locator("pre").nth(1).textContent()).toContain(`src="${server.url}/sdk.js"`);
    await shot(page, "first-run-events");
    await page.waitForTimeout(300); // the live stream connects

    // Pasted into a shell as shown: a 204, and the event appears on the page.
    const run = Bun.spawnSync([
      "bash",
      "-c",
      curl.replace("curl ", `${requireCommand("curl", "curl")} -s `),
    ]);
    expect(run.stdout.toString()).toMatch(/^HTTP\/1\.1 204/);
    await page.getByRole("row").filter({ hasText: "first-event" }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the chart shows a handful of events as a bar you can read, on a labelled scale", async () => {
    for (let i = 0; i < 17; i++) {
      const res = await fetch(`${server.url}/collect/1001/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validEvent({ instance_id: `handful-${i}` })),
      });
      expect(res.status).toBe(204);
    }
    const { page } = await open(1280);
    const chart = page.locator("figure.chart");
    await chart.getByText("18 in all").waitFor();
    // 18 in one minute on a 0-20 scale: the tallest bar fills most of the plot.
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered (line breaks included), not a DOM node's.
    expect(await chart.locator(".y-axis").innerText()).toBe("20\n10\n0");
    const bars = await chart
      .locator("rect")
      .evaluateAll((rects) =>
        rects.map((r) => r.getBoundingClientRect()).filter((b) => b.height > 0),
      );
    expect(bars.length).toBeGreaterThanOrEqual(1);
    const tallest = Math.max(...bars.map((b) => b.height));
    expect(tallest).toBeGreaterThan(80);
    expect(Math.min(...bars.map((b) => b.width))).toBeGreaterThan(5);
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered (line breaks included), not a DOM node's.
    expect(await chart.locator(".x-axis").innerText()).toEndWith("now");
    await shot(page, "overview-handful");
    await page.close();
  });

  test("the Registry edits a tracker's allowed origins, a vendor's products and an account's placeholders", async () => {
    const { page } = await open(1280, false);
    await page.getByRole("link", { name: "Registry" }).click();
    const add = async (legend: string, values: Record<string, string>) => {
      const form = page.getByRole("group", { name: legend });
      for (const [label, value] of Object.entries(values)) await form.getByLabel(label).fill(value);
      await form.getByRole("button", { name: "Add" }).click();
    };
    await add("Add an account", { "Account ID": "1001", Name: "Main Street Motors" });
    await page.getByText("Main Street Motors").waitFor();
    await add("Add a tracker", { "Account ID": "1001", "Tracker ID": "1", Name: "website" });
    await page.getByRole("button", { name: "Edit origins" }).waitFor();
    await add("Add a vendor", { "Vendor name": "Chat Co", "Products (comma-separated)": "Chat" });

    const answers = ["https://mainstreet.example, https://www.mainstreet.example"];
    page.on("dialog", (d) => void d.accept(answers.shift()));
    await page.getByRole("button", { name: "Edit origins" }).click();
    await page.getByText("(https://mainstreet.example, https://www.mainstreet.example)").waitFor();

    answers.push("https://mainstreet.example/vdp"); // a path: no browser sends that origin
    await page.getByRole("button", { name: "Edit origins" }).click();
    await page.getByRole("alert").waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered (line breaks included), not a DOM node's.
    expect(await page.getByRole("alert").innerText()).toContain("allowedOrigins");

    answers.push("Chat, Credit App");
    await page.getByRole("button", { name: "Edit products" }).click();
    await page.getByText("Chat, Credit App").waitFor();

    answers.push("sales@mainstreet.example, (512) 555-0100, walk-in");
    await page.getByRole("button", { name: "Placeholders" }).click();
    await page
      .getByText("Never link shoppers: sales@mainstreet.example, (512) 555-0100, walk-in")
      .waitFor();
    const registry = (await (
      await fetch(`${server.url}/admin/api/registry`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as {
      accounts: { junkIdentifiers?: string[] }[];
      trackers: { allowedOrigins: string[] }[];
      vendors: { products: string[] }[];
    };
    expect(registry.accounts[0]!.junkIdentifiers).toEqual([
      "sales@mainstreet.example",
      "(512) 555-0100",
      "walk-in",
    ]);
    expect(registry.trackers[0]!.allowedOrigins).toEqual([
      "https://mainstreet.example",
      "https://www.mainstreet.example",
    ]);
    expect(registry.vendors[0]!.products).toEqual(["Chat", "Credit App"]);
    await shot(page, "registry");
    await page.close();
  });

  test("Rejected pages back through the log", async () => {
    for (let i = 0; i < 60; i++)
      await fetch(`${server.url}/collect/1001/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: `broken-${i}` }),
      });
    const { page } = await open(1280);
    await page.getByRole("link", { name: "Rejected" }).click();
    const items = page.locator("ul.rejects > li");
    await items.nth(49).waitFor();
    expect(await items.count()).toBe(50);
    await page.getByRole("button", { name: "Older rejects" }).click();
    await items.nth(59).waitFor();
    expect(await items.count()).toBe(60);
    expect(await page.getByRole("button", { name: "Older rejects" }).count()).toBe(0);
    await page.close();
  });

  for (const width of [1280, 390])
    test(`every page fits ${width} px without scrolling sideways, its tab in view`, async () => {
      const { page, errors } = await open(width);
      const seen: Record<string, number> = {};
      const tabOutOfView: string[] = [];
      for (const route of [
        "overview",
        "check?aid=1001&tid=1",
        "events",
        "instance?accountId=1001&instanceId=handful-3",
        "journey?accountId=1001&instanceId=handful-3",
        "leads?accountId=1001",
        "attribution?accountId=1001",
        "rejects",
        "registry",
        "access",
        "privacy",
      ]) {
        await page.goto(`${server.url}/admin#/${route}`);
        await page.locator("main h1").waitFor();
        await page.waitForTimeout(400); // the page's data arrives
        seen[route] = await overflow(page);
        // The current page's tab is wholly on screen, also when opened by its URL.
        const tab = await page.locator('.top nav a[aria-current="page"]').boundingBox();
        if (!tab || tab.x < 0 || tab.x + tab.width > width) tabOutOfView.push(route);
        await shot(page, `${route.split("?")[0]}-${width}px`);
      }
      // An event's detail, with its stored JSON, too.
      await page.goto(`${server.url}/admin#/events`);
      await page
        .getByRole("button", { name: /Show event/ })
        .first()
        .click();
      await page
        .getByRole("complementary", { name: "Event detail" })
        .getByText("stored JSON")
        .waitFor();
      seen["event detail"] = await overflow(page);
      await shot(page, `events-detail-${width}px`);
      expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((k) => [k, 0])));
      expect(tabOutOfView).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    });
});
