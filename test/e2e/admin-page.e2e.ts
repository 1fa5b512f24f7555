/**
 * The admin page in real Chromium against the compiled binary started from an empty
 * directory, with a config that still sets `workers` (ignored since 0.5.0, with a warning).
 * Screenshots of every page land in test/e2e/artifacts/ (ignored by git).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
import { BROWSER_UA, tempDir } from "../helpers/test-app.ts";

const artifacts = join(import.meta.dir, "artifacts");
let server: Running;
let browser: Browser;
let token: string;

const registry = {
  accounts: [{ id: "1001", name: "Main Street Motors", type: "dealership" }],
  trackers: [{ id: "7", accountId: "1001", name: "mainstreet.example website" }],
  vendors: [{ name: "ChatVendor", products: ["LiveChat Pro"] }],
};

async function post(
  aid: string,
  tid: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetch(`${server.url}/collect/${aid}/${tid}/event`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

/** A page that records dialogs and console errors, so a test can prove nothing executed. */
async function openPage(): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  return { page, ...watchPage(page) };
}

async function login(page: Page, with_ = token): Promise<void> {
  await page.goto(`${server.url}/admin`);
  await page.getByLabel("Admin token").fill(with_);
  await page.getByRole("button", { name: "Log in" }).click();
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  const config = join(dir, "trackd.json");
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, "data"), registry }));
  server = await startBinary(binary, dir, ["--config", config, "--workers", "3"], {
    TRACKD_ADMIN_TOKEN: "",
  });
  // As a newcomer finds it: the file the first start's log line names.
  const made = /"msg":"admin token made[^\n]*"file":"([^"]+)"/.exec(server.logs())![1]!;
  token = readFileSync(made, "utf8").trim();
  // One warning line, pointing to scaling out by process.
  expect(server.logs().match(/workers is ignored.*More cores/g)).toHaveLength(1);
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
});

describe("the admin page", () => {
  test("refuses a wrong token and lets the printed token in", async () => {
    const { page } = await openPage();
    await login(page, "not-the-token");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/not the admin token/i);
    await shot(page, "login-refused");
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("button", { name: "Run health checks" }).click();
    await page.getByText(/writing .*events-.*\.ndjson/).waitFor(); // the file sink's own check
    await shot(page, "overview");
    await page.close();
  });

  test("confirms a registered ID pair and suggests the right one for a mistyped pair", async () => {
    await post("1001", "7", {
      action: "view",
      object: "vehicle",
      vendor: "ChatVendor",
      product: "LiveChat Pro",
      instance_id: "vdp-1",
    });
    await post("1010", "7", {
      action: "view",
      object: "vehicle",
      vendor: "ChatVendor",
      product: "LiveChat Pro",
      instance_id: "vdp-2",
    });
    const { page } = await openPage();
    await login(page);
    await page.getByRole("link", { name: "Check IDs" }).click();
    await page.getByLabel("Account ID (aid)").fill("1001");
    await page.getByLabel("Tracker ID (tid)").fill("7");
    await page.getByRole("button", { name: "Check" }).click();
    await page.getByText("Account 1001 is Main Street Motors").waitFor();
    await page.getByText("Tracker 7 is mainstreet.example website").waitFor();
    await shot(page, "check-registered");

    await page.getByLabel("Account ID (aid)").fill("1010");
    await page.getByRole("button", { name: "Check" }).click();
    await page.getByText("Did you mean").first().waitFor();
    await page.getByText("tracker 7 is registered under account 1001").first().waitFor();
    await shot(page, "check-suggestion");
    await page.close();
  });

  test("shows a new event live on the events page, with its detail", async () => {
    const { page } = await openPage();
    await login(page);
    await page.getByRole("link", { name: "Events" }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.waitForTimeout(300); // the live stream connects
    await post("1001", "7", {
      action: "Submit",
      object: "form",
      vendor: "ChatVendor",
      product: "LiveChat Pro",
      instance_id: "live-lead-42",
      label: "Lead form",
    });
    const row = page.getByRole("row").filter({ hasText: "live-lead-42" });
    await row.waitFor({ timeout: 10000 });
    await row.getByRole("button").click();
    const detail = page.getByRole("complementary", { name: "Event detail" });
    await detail.getByText('"instanceId": "live-lead-42"').waitFor();
    await detail.getByText("files:").waitFor();
    await shot(page, "events-detail");
    await page.close();
  });

  test("joins browser and server events that share an instance ID into one timeline", async () => {
    await post(
      "1001",
      "7",
      {
        action: "open",
        object: "widget",
        vendor: "ChatVendor",
        product: "LiveChat Pro",
        instanceId: "chat-9001",
      },
      { origin: "https://mainstreet.example", "user-agent": BROWSER_UA },
    );
    await post("1001", "7", {
      action: "associate",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat Pro",
      instance_id: "chat-9001",
      label: "Lead from chat",
    });
    const { page } = await openPage();
    await login(page);
    await page.getByRole("link", { name: "Instance" }).click();
    await page.getByLabel("Account ID").fill("1001");
    await page.getByLabel("Instance ID").fill("chat-9001");
    await page.getByRole("button", { name: "Show timeline" }).click();
    const items = page.locator("ol.timeline > li");
    await items.nth(1).waitFor();
    const texts = await items.allTextContents();
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain("browser");
    expect(texts[0]).toContain("open widget");
    expect(texts[1]).toContain("server");
    expect(texts[1]).toContain("associate lead");
    await shot(page, "instance");
    await page.close();
  });

  test("shows hostile event fields as text: nothing executes", async () => {
    const payloads = [
      '<script>alert("xss")</script>',
      '<img src=x onerror=alert("img")>',
      '"><svg onload=alert(1)>',
      "javascript:alert(1)",
      "<iframe src=javascript:alert(2)>",
    ];
    for (const [i, p] of payloads.entries())
      await post(
        "1001",
        "7",
        { action: p, object: p, vendor: p, product: p, instance_id: `xss-${i}`, label: p, [p]: p },
        { origin: "https://evil.example" },
      );
    const refused = await fetch(`${server.url}/collect/1001/7/event`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: payloads[1] }),
    });
    expect(refused.status).toBe(400); // shown on the rejects page with its sample
    const { page, dialogs, errors } = await openPage();
    await login(page);
    for (const [route, name] of [
      ["events", "events"],
      ["instance?accountId=1001&instanceId=xss-1", "instance-xss"],
      ["rejects", "rejects"],
      ["overview", "overview-after"],
      ["check?aid=1001&tid=7", "check-xss"],
      ["registry", "registry"],
    ] as const) {
      await page.goto(`${server.url}/admin#/${route}`);
      await page.waitForTimeout(500);
      await shot(page, name);
    }
    await page.goto(`${server.url}/admin#/events?instanceId=xss-1`);
    await page.getByRole("row").filter({ hasText: "xss-1" }).getByRole("button").click();
    await page
      .getByRole("complementary", { name: "Event detail" })
      .getByText("onerror")
      .first()
      .waitFor();
    await page.goto(`${server.url}/admin#/events`);
    await page.getByText('<img src=x onerror=alert("img")>').first().waitFor(); // shown literally
    expect(
      await page.locator("main img, main script, main iframe, main svg:not(.chart svg)").count(),
    ).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("is usable at 390 px wide", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await login(page);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("link", { name: "Events" }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0); // wide tables scroll inside their own box
    await shot(page, "events-390px");
    // An event's detail (long IDs, the stored JSON) stays within the width too.
    await page
      .getByRole("button", { name: /Show event/ })
      .first()
      .click();
    await page.getByRole("complementary", { name: "Event detail" }).waitFor();
    const detailOverflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(detailOverflow).toBeLessThanOrEqual(0);
    const header = await page.locator("header.top").boundingBox();
    expect(header!.height).toBeLessThan(120); // the navigation is one row (it scrolls sideways)
    await shot(page, "events-detail-390px");
    await page.close();
  });

  test("quotes every value in the copy-paste curl snippet: a hostile address runs nothing when pasted", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await login(page);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.goto(
      `${server.url}/admin#/events?accountId=1'%24(touch%20PWNED)'&trackerId=1%22%60touch%20PWNED2%60`,
    );
    await page.getByText(/Send a test event to/).click();
    const snippet = (await page.locator("details pre").first().textContent())!;
    const dir = tempDir("snippet-");
    // curl stands in as a function that prints its arguments: the snippet runs as pasted.
    const run = Bun.spawnSync(["bash", "-c", `curl() { printf '%s\\n' "$@"; }\n${snippet}`], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(run.exitCode).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(run.stdout.toString()).toContain("/collect/1'%24(touch%20PWNED)'/");
    await page.close();
  });
});
