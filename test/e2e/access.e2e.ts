/**
 * Trust on the admin page, in Chromium against the compiled binary: the owner makes a tracker
 * ask for signed server events and a secret for it (shown once) on the Registry page, then a
 * read credential for one account on the Access page; a signed lead arrives. Logged in with
 * that credential, the page offers only what it may open, lists its own account's lead and
 * nothing of the other account, at 1280 and 390 px; the owner's Access page shows its reads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import {
  BINARY_TOKEN,
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, loggedInPage, watchPage } from "../helpers/browser.ts";

const MINE = "1001";
const OTHER = "2002";
const artifacts = join(import.meta.dir, "artifacts");
let trackd: Running;
let browser: Browser;
let secret = "";
let token = "";
let otherLead = "";

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  writeFileSync(
    join(dir, "trackd.json"),
    JSON.stringify({
      dataDir: join(dir, "data"),
      registry: {
        accounts: [
          { id: MINE, name: "Main Street Motors" },
          { id: OTHER, name: "Other Motors" },
        ],
        trackers: [
          { id: "1", accountId: MINE, name: "Website" },
          { id: "1", accountId: OTHER, name: "Website" },
        ],
      },
    }),
  );
  trackd = await startBinary(binary, dir, ["--config", join(dir, "trackd.json")]);
  const other = await fetch(`${trackd.url}/collect/${OTHER}/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      action: "submit",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat",
      instance_id: crypto.randomUUID(),
    }),
  });
  otherLead = other.headers.get("x-event-id")!;
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
});

describe("signed events and credentials on the admin page", () => {
  test("the owner asks for signed events, makes a secret and a read credential", async () => {
    const page = await loggedInPage(browser, trackd.url, BINARY_TOKEN, 1280);
    const watched = watchPage(page);
    await page.goto(`${trackd.url}/admin#/registry`);
    await page.getByLabel(`How tracker 1's server events prove their sender`).first().waitFor();
    const card = page.locator(".card", { hasText: "Main Street Motors" });
    await card.getByRole("button", { name: "Make a secret" }).click();
    const shown = card.locator(".secret-made code");
    await shown.waitFor();
    secret = (await shown.textContent())!.trim();
    expect(secret).toMatch(/^tds_[A-Za-z0-9_-]{43}$/);
    await card.getByLabel(`How tracker 1's server events prove their sender`).selectOption("hmac");
    await card.getByText("refused (401)").waitFor({ state: "attached" });
    await page.screenshot({ path: join(artifacts, "registry-secret-1280.png"), fullPage: true });
    await card.getByRole("button", { name: "Done" }).click();
    await card.getByText(/secret [0-9a-f]{18} made/).waitFor();
    expect(await card.textContent()).not.toContain(secret);

    // An unsigned server lead is now refused; a signed one is stored.
    const body = JSON.stringify({
      action: "submit",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat",
      instance_id: crypto.randomUUID(),
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${trackd.url}/collect/${MINE}/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    expect((await post({})).status).toBe(401);
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    expect((await post({ "x-trackd-signature": `t=${t},v1=${v1}` })).status).toBe(204);

    await page.goto(`${trackd.url}/admin#/access`);
    await page.getByLabel("Name").fill("Chat vendor");
    await page.getByLabel("Role").selectOption("read");
    await page.getByLabel("Accounts (comma-separated; empty: every account)").fill(MINE);
    await page.getByRole("button", { name: "Make", exact: true }).click();
    const made = page.locator(".secret-made code");
    await made.waitFor();
    token = (await made.textContent())!.trim();
    expect(token).toMatch(/^tdc_/);
    await page.getByRole("cell", { name: "Chat vendor" }).waitFor();
    expect(watched.errors).toEqual([]);
    await page.close();
  });

  for (const width of [1280, 390])
    test(`the credential sees its own account only (${width} px)`, async () => {
      const page = await loggedInPage(browser, trackd.url, token, width, "Leads");
      const watched = watchPage(page);
      const nav = (await page.locator("nav").textContent()) ?? "";
      for (const hidden of ["Overview", "Rejected", "Access"]) expect(nav).not.toContain(hidden);
      await page.getByText("Chat vendor (read)").waitFor();
      await page.goto(`${trackd.url}/admin#/leads`);
      await page.getByLabel("Account ID").first().waitFor();
      expect(await page.getByLabel("Account ID").first().inputValue()).toBe(MINE);
      await page.getByRole("button", { name: "Show leads" }).click();
      await page.getByText("1 lead,").waitFor();
      // The other account is not there for it, even asked for by URL.
      await page.goto(`${trackd.url}/admin#/journey?accountId=${OTHER}&eventId=${otherLead}`);
      await page
        .getByText(/No such route|not found/i)
        .first()
        .waitFor();
      expect(await page.content()).not.toContain("Other Motors");
      const fits = await page.evaluate(() => document.body.scrollWidth <= window.innerWidth);
      expect(fits).toBe(true);
      await page.goto(`${trackd.url}/admin#/leads`);
      await page.getByRole("button", { name: "Show leads" }).click();
      await page.getByText("1 lead,").waitFor();
      await page.screenshot({
        path: join(artifacts, `credential-leads-${width}.png`),
        fullPage: true,
      });
      expect(watched.errors.filter((e) => !e.includes("404"))).toEqual([]);
      await page.close();
    });

  test("the owner's Access page lists the credential's reads", async () => {
    const res = await fetch(`${trackd.url}/admin/api/access-log`, { headers: adminAuth });
    const log = (await res.json()) as { entries: { who: { name: string }; target: string }[] };
    expect(log.entries.some((e) => e.who.name === "Chat vendor" && e.target.includes("/leads?")));
    const page = await loggedInPage(browser, trackd.url, BINARY_TOKEN, 390);
    await page.goto(`${trackd.url}/admin#/access`);
    await page.getByRole("heading", { name: "Access log" }).waitFor();
    await page
      .getByRole("cell", { name: /Chat vendor/ })
      .first()
      .waitFor();
    await page.screenshot({ path: join(artifacts, "access-390.png"), fullPage: true });
    await page.close();
  });
});
