/**
 * A lead's customer and its CRM delivery on the admin page, in Chromium against the compiled
 * binary: a chat lead with a customer is e-mailed as ADF to a real SMTP server; staff filter
 * the Leads page by CRM delivery, open the lead's journey, and only there, in the lead's
 * detail, read the customer's name, e-mail and phone and where the lead went (at 1280 and
 * 390 px). The customer's hostile text stays text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import {
  BINARY_TOKEN,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, loggedInPage, watchPage } from "../helpers/browser.ts";
import { waitFor } from "../helpers/ports.ts";
import { type Mailbox, smtpSettings, startMailbox } from "../helpers/smtp.ts";

const ACCOUNT = "1001";
const artifacts = join(import.meta.dir, "artifacts");
const NAME = "<img src=x onerror=alert(1)>Zoë";
let trackd: Running;
let mailbox: Mailbox;
let browser: Browser;
let leadId: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  mailbox = await startMailbox();
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  writeFileSync(
    join(dir, "trackd.json"),
    JSON.stringify({
      dataDir: join(dir, "data"),
      registry: { accounts: [{ id: ACCOUNT, name: "Main Street Motors" }] },
      sinks: [
        {
          kind: "adf",
          name: "crm",
          delaySeconds: 0,
          smtp: smtpSettings(mailbox.port, ["leads@crm.example"]),
        },
      ],
    }),
  );
  trackd = await startBinary(binary, dir, ["--config", join(dir, "trackd.json")]);
  const res = await fetch(`${trackd.url}/collect/${ACCOUNT}/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      action: "submit",
      object: "lead",
      vendor: "ChatVendor",
      product: "LiveChat Pro",
      instance_id: crypto.randomUUID(),
      customer: {
        firstName: NAME,
        lastName: "O'Brien",
        email: "zoe@example.net",
        phone: "+44 20 7946 0958",
      },
      vehicle: { year: 2022, make: "Ford", model: "F-150" },
    }),
  });
  leadId = res.headers.get("x-event-id")!;
  await waitFor("the ADF e-mail", () => mailbox.messages.length === 1, 20000);
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
  await mailbox?.stop();
});

const loggedIn = (width: number): Promise<Page> =>
  loggedInPage(browser, trackd.url, BINARY_TOKEN, width);

describe("a lead's customer and delivery on the admin page", () => {
  for (const width of [1280, 390])
    test(`the Leads page filters by CRM delivery; only the lead's detail shows the customer (${width} px)`, async () => {
      const page = await loggedIn(width);
      const watched = watchPage(page);
      await page.goto(`${trackd.url}/admin#/leads?accountId=${ACCOUNT}`);
      await page.getByLabel("CRM delivery").selectOption("delivered");
      await page.getByRole("button", { name: "Show leads" }).click();
      await page.getByText("1 lead,").waitFor();
      expect(page.url()).toContain("crm=delivered");
      expect(await page.locator("table tbody tr").first().textContent()).toContain(
        "delivered to the CRM",
      );
      // The list shows no customer.
      expect(await page.content()).not.toContain("zoe@example.net");
      await page.getByLabel("CRM delivery").selectOption("refused");
      await page.getByRole("button", { name: "Show leads" }).click();
      await page.getByText("No leads in this range.").waitFor();

      await page.goto(`${trackd.url}/admin#/journey?accountId=${ACCOUNT}&eventId=${leadId}`);
      await page.getByText("Customer and deliveries").click();
      const detail = page.locator(".lead-detail");
      await detail.getByText("zoe@example.net").waitFor();
      const text = (await detail.textContent()) ?? "";
      expect(text).toContain(`${NAME} O'Brien`);
      expect(text).toContain("+442079460958");
      expect(text).toMatch(/crm: delivered/);
      expect(await page.locator("img[src=x]").count()).toBe(0);
      expect(watched.dialogs).toEqual([]);
      const fits = await page.evaluate(() => document.body.scrollWidth <= window.innerWidth);
      expect(fits).toBe(true);
      await page.screenshot({ path: join(artifacts, `lead-detail-${width}.png`), fullPage: true });
      expect(watched.errors).toEqual([]);
      await page.close();
    });
});
