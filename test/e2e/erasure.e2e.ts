/**
 * A shopper's request to be forgotten, end to end against the compiled binary with a file
 * sink, a webhook and NATS JetStream: a shopper on two devices with a chat and a lead carrying
 * their contact, beside a stranger, delivered everywhere. The owner counts and erases on the
 * Privacy page in Chromium; then no journey, lead or attribution shows the shopper, each sink
 * gets the erasure record, the file sink's archive and a compacted backup hold none of their
 * identifiers, and after a restart a new event with them links to nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { open } from "lmdb";
import type { Browser } from "playwright-core";
import {
  BINARY_TOKEN,
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  runToEnd,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { launchBrowser, loggedInPage } from "../helpers/browser.ts";
import { filesUnder } from "../helpers/files.ts";
import { createNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { waitFor } from "../helpers/ports.ts";
import { startReceiver, type Receiver } from "../helpers/receiver.ts";
import { sha256 } from "../helpers/shoppers.ts";
import { BROWSER_UA } from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const WEB = "https://mainstreet.example";
const EMAIL = "jordan.alvarez@example.com";
const PHONE_E164 = "+12025550188";
const CHAT = crypto.randomUUID();
const DEVICES = [crypto.randomUUID(), crypto.randomUUID()];
const STRANGER_DEVICE = crypto.randomUUID();
const artifacts = join(import.meta.dir, "artifacts");

let dir = "";
let binary = "";
let config = "";
let trackd: Running;
let browser: Browser;
let nats: NatsServer;
let receiver: Receiver;
const shopper: string[] = [];
const stranger: string[] = [];
let operationId = "";

/** Posts an event as a browser (origin, a shopper's user agent) or a vendor's server. */
async function send(fields: Record<string, unknown>, browserEvent: boolean): Promise<string> {
  const res = await fetch(`${trackd.url}/collect/${ACCOUNT}/1/event`, {
    method: "POST",
    headers: browserEvent
      ? { "content-type": "text/plain", origin: WEB, "user-agent": BROWSER_UA }
      : { "content-type": "application/json", "user-agent": "python-requests/2.32.3" },
    body: JSON.stringify({ vendor: "ChatVendor", product: "LiveChat Pro", ...fields }),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

const view = (device: string, extra: Record<string, unknown> = {}) => ({
  action: "view",
  object: "page",
  instance_id: crypto.randomUUID(),
  deviceId: device,
  visitId: crypto.randomUUID(),
  pageUrl: `${WEB}/used/2021-honda-cr-v?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=Cj0K${device.slice(0, 6)}`,
  ...extra,
});

/** Every message's JSON in the JetStream stream. */
async function natsEvents(): Promise<{ eventId: string; action: string; properties: never }[]> {
  const jsm = await jetstreamManager(await nats.client());
  const count = (await jsm.streams.info("ERASURE")).state.messages;
  const out = [];
  for (let seq = 1; seq <= count; seq++)
    out.push(JSON.parse((await jsm.streams.getMessage("ERASURE", { seq }))!.string()));
  return out;
}

/** A file's bytes, or every file's under a directory, as latin1 text. */
const readAll = (path: string): string =>
  statSync(path).isDirectory() ? filesUnder(path) : readFileSync(path).toString("latin1");

const fileLines = (files: string) =>
  readdirSync(files)
    .filter((f) => f.endsWith(".ndjson"))
    .flatMap((f) => readFileSync(join(files, f), "utf8").split("\n").filter(Boolean));

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  nats = await createNatsServer();
  receiver = startReceiver("hook-secret");
  await buildBinary();
  ({ dir, binary } = await binaryInEmptyDir());
  config = join(dir, "trackd.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      registry: {
        accounts: [{ id: ACCOUNT, name: "Main Street Motors" }],
        trackers: [{ id: "1", accountId: ACCOUNT, name: "Website", allowedOrigins: [WEB] }],
      },
      sinks: [
        {
          kind: "file",
          name: "files",
          dir: join(dir, "data", "events"),
          delivery: { lingerMs: 5 },
        },
        {
          kind: "webhook",
          name: "hook",
          url: receiver.url,
          secret: "hook-secret",
          delivery: { lingerMs: 5 },
        },
        {
          kind: "nats",
          name: "jetstream",
          servers: [nats.url],
          stream: "ERASURE",
          createStream: true,
          delivery: { lingerMs: 5 },
        },
      ],
    }),
  );
  trackd = await startBinary(binary, dir, ["--config", config]);
  // Jordan: a Google ad visit and a chat on the phone; the chat's lead with Jordan's contact
  // from the vendor's server; the laptop, signed in with the same e-mail.
  shopper.push(await send(view(DEVICES[0]!), true));
  shopper.push(
    await send({ action: "open", object: "chat", instance_id: CHAT, deviceId: DEVICES[0] }, true),
  );
  shopper.push(
    await send(
      {
        action: "submit",
        object: "form",
        instance_id: CHAT,
        customer: { firstName: "Jordan", lastName: "Alvarez", email: EMAIL, phone: PHONE_E164 },
      },
      false,
    ),
  );
  shopper.push(await send(view(DEVICES[1]!, { emailSha256: sha256(EMAIL) }), true));
  // Someone else, with a lead of their own.
  const other = crypto.randomUUID();
  stranger.push(await send(view(STRANGER_DEVICE, { instance_id: other }), true));
  stranger.push(
    await send(
      {
        action: "submit",
        object: "form",
        instance_id: other,
        customer: { email: "sam@example.net" },
      },
      false,
    ),
  );
  const all = [...shopper, ...stranger];
  await waitFor("every sink to have the events", async () => {
    const inFiles = fileLines(join(dir, "data", "events")).join("\n");
    const inNats = (await natsEvents()).map((e) => e.eventId);
    return all.every(
      (id) => receiver.eventIds().includes(id) && inFiles.includes(id) && inNats.includes(id),
    );
  });
  browser = await launchBrowser();
}, 300000);

afterAll(async () => {
  await browser?.close();
  killAll();
  await receiver?.stop();
  await nats?.destroy();
});

describe("erasure on request", () => {
  test("the owner counts, then erases, on the Privacy page (1280 px)", async () => {
    const page = await loggedInPage(browser, trackd.url, BINARY_TOKEN, 1280);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${trackd.url}/admin#/privacy`);
    await page.getByRole("heading", { name: "Privacy" }).waitFor();
    await page.getByText("No erasures yet.").waitFor();
    await page.getByLabel("Account ID").fill(ACCOUNT);
    await page.getByLabel("E-mail", { exact: true }).fill(EMAIL);
    await page.getByRole("button", { name: "Count what would go" }).click();
    const counts = page.getByRole("region", { name: "What would go" });
    await counts.waitFor();
    const row = (name: string) => counts.getByRole("row", { name: new RegExp(`^${name}`) });
    expect(await row("Events").textContent()).toBe("Events4");
    expect(await row("Visits").textContent()).toBe("Visits2");
    expect(await row("Customer records").textContent()).toBe("Customer records1");
    // Nothing has changed yet.
    const journey = await fetch(
      `${trackd.url}/admin/api/journey?accountId=${ACCOUNT}&instanceId=${CHAT}`,
      { headers: adminAuth },
    );
    expect(journey.status).toBe(200);
    await page.screenshot({ path: join(artifacts, "privacy-count-1280.png"), fullPage: true });

    const dialogs: string[] = [];
    page.once("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.getByRole("button", { name: "Erase" }).click();
    const done = page.getByRole("status");
    await done.getByText("Erased: 4 events and 1 customer record").waitFor();
    expect(dialogs[0]).toContain(`account ${ACCOUNT}`);
    operationId = (await done.locator("code").textContent())!;
    expect(operationId).toMatch(/^[0-9a-f-]{36}$/);
    const audit = page.getByRole("row").filter({ hasText: operationId });
    await audit.waitFor();
    expect(await audit.textContent()).toContain("email");
    await page.screenshot({ path: join(artifacts, "privacy-erased-1280.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the Privacy page at 390 px is no wider than the screen", async () => {
    const page = await loggedInPage(browser, trackd.url, BINARY_TOKEN, 390);
    await page.goto(`${trackd.url}/admin#/privacy`);
    await page.getByRole("row").filter({ hasText: operationId }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(artifacts, "privacy-390.png"), fullPage: true });
    await page.close();
  });

  test("no journey, lead or attribution shows the shopper; the stranger is intact", async () => {
    const api = (path: string) =>
      fetch(`${trackd.url}/admin/api${path}`, { headers: adminAuth }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    // (By event ID: a read naming the chat ID would put it in the access log again.)
    expect((await api(`/journey?accountId=${ACCOUNT}&eventId=${shopper[2]}`)).status).toBe(404);
    for (const id of shopper) expect((await api(`/events/${id}`)).status).toBe(404);
    for (const id of stranger) expect((await api(`/events/${id}`)).status).toBe(200);
    const leads = (await api(`/leads?accountId=${ACCOUNT}`)).body.leads as {
      lead: { eventId: string };
    }[];
    expect(leads.map((l) => l.lead.eventId)).toEqual([stranger[1]!]);
    const attribution = (await api(`/attribution?accountId=${ACCOUNT}`)).body;
    expect(attribution.leads).toBe(1);
  });

  test("every sink gets the erasure record; the file sink deletes the events it names", async () => {
    const isRecord = (e: { action: string; instanceId?: string }) =>
      e.action === "erase" && e.instanceId === operationId;
    await waitFor("the webhook to get the record", () =>
      receiver.batches.some((b) => b.events.some((e) => e.instanceId === operationId)),
    );
    await waitFor("JetStream to get the record", async () =>
      (await natsEvents()).some((e) => isRecord(e as never)),
    );
    const record = (await natsEvents()).find((e) => isRecord(e as never)) as unknown as {
      properties: { erasure: { eventIds: string[] } };
      context: { source: string };
    };
    expect(record.context.source).toBe("trackd");
    expect(record.properties.erasure.eventIds).toEqual([...shopper].sort());
    const files = join(dir, "data", "events");
    await waitFor("the file sink to write the record", () =>
      fileLines(files).some((l) => l.includes(operationId)),
    );
    const archived = fileLines(files).map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    for (const id of shopper) expect(archived).not.toContain(id);
    for (const id of stranger) expect(archived).toContain(id);
  });

  test("no record of a backup, and no file beside the store, holds the shopper's identifiers", () => {
    const copy = join(dir, "backup");
    const backedUp = runToEnd([binary, "backup", copy, "--data-dir", join(dir, "data")]);
    expect(backedUp.code).toBe(0);
    const identifiers = [
      EMAIL,
      sha256(EMAIL),
      PHONE_E164.slice(1),
      sha256(PHONE_E164.slice(1)),
      CHAT,
      ...DEVICES,
      "Alvarez",
    ].map((v) => v.toLowerCase());
    const found = (where: string, text: string) =>
      identifiers.filter((v) => text.toLowerCase().includes(v)).map((v) => `${v} in ${where}`);
    // Every key and value of every database in the backup, read as LMDB reads them. (The bytes
    // of a deleted record can stay in the unused part of a page until LMDB writes over it:
    // docs/operations.md says so; no read reaches them.)
    const root = open({ path: join(copy, "trackd.mdb"), readOnly: true, maxDbs: 64 });
    const records: string[] = [];
    try {
      const names = [...root.getKeys()].map(String);
      expect(names).toContain("events");
      for (const name of names) {
        const db = root.openDB({ name, keyEncoding: "binary", encoding: "binary" });
        for (const { key, value } of db.getRange())
          records.push(
            found(
              `${name}`,
              Buffer.from(key as Uint8Array).toString("latin1") +
                Buffer.from(value as Uint8Array).toString("latin1"),
            ).join(),
          );
      }
    } finally {
      void root.close();
    }
    const besideTheStore = readdirSync(join(dir, "data"))
      .filter((f) => f !== "trackd.mdb" && f !== "trackd.mdb-lock")
      .flatMap((f) => found(f, readAll(join(dir, "data", f))));
    expect([...records.filter(Boolean), ...besideTheStore]).toEqual([]);
    expect(readAll(join(dir, "data", "events"))).toContain(STRANGER_DEVICE);
  });

  test("after a restart, a new event with the shopper's identifiers links to nothing", async () => {
    expect(await trackd.stop()).toBe(0);
    trackd = await startBinary(binary, dir, ["--config", config]);
    const again = await send(
      {
        action: "submit",
        object: "form",
        instance_id: CHAT,
        customer: { firstName: "Jordan", email: EMAIL },
      },
      false,
    );
    const event = (await (
      await fetch(`${trackd.url}/admin/api/events/${again}`, { headers: adminAuth })
    ).json()) as {
      event: { context: { suppressed?: boolean }; properties: Record<string, unknown> };
    };
    expect(event.event.context.suppressed).toBe(true);
    expect(event.event.properties.customer).toBeUndefined();
    const journey = (await (
      await fetch(`${trackd.url}/admin/api/journey?accountId=${ACCOUNT}&eventId=${again}`, {
        headers: adminAuth,
      })
    ).json()) as { events: unknown[]; deviceIds: unknown[] };
    expect(journey.events).toHaveLength(1);
    expect(journey.deviceIds).toEqual([]);
    const byChat = (await (
      await fetch(`${trackd.url}/admin/api/journey?accountId=${ACCOUNT}&instanceId=${CHAT}`, {
        headers: adminAuth,
      })
    ).json()) as { events: unknown[]; leads: unknown[] };
    expect([byChat.events, byChat.leads]).toEqual([[], []]);
  });
});
