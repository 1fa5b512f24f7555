/**
 * Erasure on request, through POST /admin/api/erasure: a shopper on two devices with a chat, a
 * lead and its customer, beside a stranger. A dry run counts and changes nothing; the erasure
 * removes every event, link, customer, reject-log sample and access-log mention of the
 * shopper and nothing of the stranger, writes a record for sinks and an audit entry that name
 * no identifier; later events with the shopper's identifiers link to nothing and keep no
 * customer, also after the store is opened again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createApp } from "../../server/app.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { openStore } from "../../server/store/open-store.ts";
import { verifyStore } from "../../server/store/verify-store.ts";
import { createLog } from "../../server/telemetry/log.ts";
import {
  ADMIN_TOKEN,
  BASE,
  BROWSER_UA,
  createTestApp,
  errorOf,
  testConfig,
  type TestApp,
  validEvent,
} from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const EMAIL = "Pat.Shopper@Example.com";
const EMAIL_HASH = sha256(EMAIL.toLowerCase());
const PHONE = "+1 (202) 555-0147";
const CHAT = crypto.randomUUID();
const DEVICES = [crypto.randomUUID(), crypto.randomUUID()];
const WEB = "https://mainstreet.example";

let t: TestApp;
const shopper: string[] = [];
const stranger: string[] = [];

const erase = (body: unknown, token = ADMIN_TOKEN) =>
  t.app.handle(
    new Request(`${BASE}/admin/api/erasure`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );

/** Posts an event as a shopper's browser or a vendor's server; its stored ID. */
async function send(fields: Record<string, unknown>, browser: boolean): Promise<string> {
  const res = await t.collect(validEvent(fields), {
    aid: ACCOUNT,
    query: browser ? "?sdk=web-test" : "",
    headers: browser
      ? { "content-type": "text/plain", origin: WEB, "user-agent": BROWSER_UA }
      : { "user-agent": "python-requests/2.32.3" },
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

const pageView = (device: string, extra: Record<string, unknown> = {}) => ({
  action: "view",
  object: "page",
  instance_id: crypto.randomUUID(),
  deviceId: device,
  visitId: crypto.randomUUID(),
  pageUrl: `${WEB}/used/rav4?utm_source=google&utm_medium=cpc&gclid=G-${device.slice(0, 8)}`,
  ...extra,
});

beforeAll(async () => {
  t = await createTestApp();
  // Pat: an ad visit and a chat on the phone, the chat's lead with Pat's contact from the
  // vendor's server, then the laptop, where Pat signs in with the same e-mail.
  shopper.push(await send(pageView(DEVICES[0]!), true));
  shopper.push(
    await send({ action: "open", object: "chat", instance_id: CHAT, deviceId: DEVICES[0] }, true),
  );
  shopper.push(
    await send(
      {
        action: "submit",
        object: "form",
        instance_id: CHAT,
        customer: { firstName: "Pat", email: EMAIL, phone: PHONE },
      },
      false,
    ),
  );
  shopper.push(await send(pageView(DEVICES[1]!, { emailSha256: EMAIL_HASH }), true));
  // Linked to nothing, yet Pat's: the chat seen by a crawler's user agent (a bot's event has
  // no links), and a vendor's note with Pat's e-mail among its properties.
  const crawled = await t.collect(
    validEvent({ action: "view", object: "chat", instance_id: CHAT, deviceId: DEVICES[0] }),
    {
      aid: ACCOUNT,
      query: "?sdk=web-test",
      headers: { "content-type": "text/plain", origin: WEB, "user-agent": "curl/8.5.0" },
    },
  );
  expect(t.store.events.get(crawled.headers.get("x-event-id")!)!.context.bot?.excluded).toBe(true);
  shopper.push(crawled.headers.get("x-event-id")!);
  shopper.push(
    await send(
      { action: "note", object: "crm", instance_id: crypto.randomUUID(), contactEmail: EMAIL },
      false,
    ),
  );
  // Sam: someone else on the same site, and a vendor's lead of Sam's.
  stranger.push(await send(pageView(crypto.randomUUID()), true));
  stranger.push(
    await send(
      {
        action: "submit",
        object: "form",
        instance_id: crypto.randomUUID(),
        customer: { email: "sam@example.net" },
      },
      false,
    ),
  );
  // A refused event that names Pat's chat, and an admin read of Pat's journey by its chat ID.
  const refused = await t.collect({ object: "form", instance_id: CHAT }, { aid: ACCOUNT });
  expect(refused.status).toBe(400);
  await t.store.rejects.written();
  expect((await t.admin(`/journey?accountId=${ACCOUNT}&instanceId=${CHAT}`)).status).toBe(200);
  await Bun.sleep(20); // the access log's write is not awaited by the read
});
afterAll(() => t.close());

const stored = (id: string) => t.store.events.get(id);

describe("erasure", () => {
  test("a dry run counts what the e-mail reaches and changes nothing", async () => {
    const res = await erase({ identifiers: { email: EMAIL }, accountId: ACCOUNT, dryRun: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      operationId: null,
      dryRun: true,
      accounts: [ACCOUNT],
      truncated: false,
      counts: {
        events: 6,
        visits: 2,
        customers: 1,
        leadDeliveries: 0,
        deadLetters: 0,
        rejects: 1,
        accessLogEntries: 1,
      },
    });
    expect((body.counts as { links: number }).links).toBeGreaterThanOrEqual(8);
    for (const id of [...shopper, ...stranger]) expect(stored(id)).toBeDefined();
    const audit = (await (await t.admin("/erasures")).json()) as { erasures: unknown[] };
    expect(audit.erasures).toEqual([]);
  });

  test("refuses requests it cannot read, with the failing fields", async () => {
    const cases: [unknown, string][] = [
      [{ identifiers: {} }, "/identifiers"],
      [{ identifiers: { email: "not an address" } }, "/identifiers/email"],
      [{ identifiers: { phone: ["+1 202 555 0147", "12"] } }, "/identifiers/phone/1"],
      [{ identifiers: { emailSha256: "abc" } }, "/identifiers/emailSha256"],
      [{ identifiers: { instanceId: "   " } }, "/identifiers/instanceId"],
      [{ identifiers: { ssn: "123" } }, "/identifiers/ssn"],
      [{ identifiers: { userId: "u1" }, accountId: "../1001" }, "/accountId"],
      [{ identifiers: { userId: "u1" }, dryRun: "yes" }, "/dryRun"],
    ];
    for (const [body, path] of cases) {
      const res = await erase(body);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("invalid_request");
      expect(error.details.map((d) => d.path)).toContain(path);
    }
    const notJson = await t.app.handle(
      new Request(`${BASE}/admin/api/erasure`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: "{",
      }),
    );
    expect((await errorOf(notJson)).code).toBe("invalid_json");
  });

  test("a commit that fails erases nothing and answers 503 with Retry-After", async () => {
    const erase_ = t.store.events.erase.bind(t.store.events);
    t.store.events.erase = () => Promise.reject(new Error("MDB_MAP_FULL (injected)"));
    try {
      const res = await erase({ identifiers: { email: EMAIL }, accountId: ACCOUNT });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).not.toBeNull();
      expect((await errorOf(res)).code).toBe("storage_unavailable");
    } finally {
      t.store.events.erase = erase_;
    }
    for (const id of shopper) expect(stored(id)).toBeDefined();
    expect(t.logs.filter((l) => l.includes('"msg":"erasure failed"'))).toHaveLength(1);
    const audit = (await (await t.admin("/erasures")).json()) as { erasures: unknown[] };
    expect(audit.erasures).toEqual([]);
  });

  test("erases the shopper everywhere in the store, and nothing of the stranger", async () => {
    const contactsBefore = t.store.contacts.count();
    const res = await erase({ identifiers: { email: EMAIL }, accountId: ACCOUNT });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      operationId: string;
      counts: Record<string, number>;
      records: string[];
      suppressed: number;
    };
    expect(body.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.counts).toMatchObject({ events: 6, customers: 1, rejects: 1, accessLogEntries: 1 });
    expect(body.suppressed).toBeGreaterThanOrEqual(4); // the e-mail, the chat, both devices
    for (const id of shopper) expect(stored(id)).toBeUndefined();
    for (const id of stranger) expect(stored(id)).toBeDefined();
    expect(t.store.contacts.count()).toBe(contactsBefore - 1);
    expect([...t.store.events.links.entries(ACCOUNT, "email", EMAIL_HASH)]).toEqual([]);
    expect([...t.store.events.links.entries(ACCOUNT, "instance", CHAT)]).toEqual([]);
    expect((await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${shopper[2]}`)).status).toBe(404);
    const leads = (await (await t.admin(`/leads?accountId=${ACCOUNT}`)).json()) as {
      leads: { lead: { eventId: string } }[];
    };
    expect(leads.leads.map((l) => l.lead.eventId)).toEqual([stranger[1]!]);

    // The logs forget the chat ID; the access log keeps who read, not whom.
    const rejects = t.store.rejects.list({ limit: 100 });
    expect(JSON.stringify(rejects)).not.toContain(CHAT);
    const access = t.store.accessLog.list(100);
    expect(JSON.stringify(access)).not.toContain(CHAT);
    expect(access.some((a) => a.target.includes("instanceId=(erased)"))).toBe(true);

    // One record for sinks: the erased events' IDs, never an identifier.
    expect(body.records).toHaveLength(1);
    const record = stored(body.records[0]!)!;
    expect(record).toMatchObject({
      accountId: ACCOUNT,
      action: "erase",
      object: "shopper",
      instanceId: body.operationId,
      context: { source: "trackd" },
      properties: { erasure: { operationId: body.operationId, eventIds: [...shopper].sort() } },
    });
    // The audit: who, when, what kinds and counts, never an identifier.
    const audit = (await (await t.admin("/erasures")).json()) as {
      erasures: Record<string, unknown>[];
    };
    expect(audit.erasures).toHaveLength(1);
    expect(audit.erasures[0]).toMatchObject({
      operationId: body.operationId,
      by: { name: "owner" },
      accounts: [ACCOUNT],
      kinds: ["email"],
      counts: body.counts,
      records: body.records,
    });
    const said = JSON.stringify([record, audit]).toLowerCase();
    for (const secret of [EMAIL.toLowerCase(), EMAIL_HASH, CHAT, ...DEVICES, "2025550147"])
      expect(said).not.toContain(secret);
  });

  test("later events with the erased identifiers link to nothing and keep no customer", async () => {
    const contactsBefore = t.store.contacts.count();
    const view = await send(pageView(DEVICES[1]!, { emailSha256: EMAIL_HASH }), true);
    const lead = await send(
      {
        action: "submit",
        object: "form",
        instance_id: crypto.randomUUID(),
        customer: { firstName: "Pat", email: EMAIL },
      },
      false,
    );
    const samsNext = await send(pageView(crypto.randomUUID(), { userId: "sam-42" }), true);
    const v = stored(view)!;
    expect(v.context.suppressed).toBe(true);
    expect(v.properties.emailSha256).toBeUndefined();
    expect(v.properties.deviceId).toBeUndefined();
    const l = stored(lead)!;
    expect(l.context.suppressed).toBe(true);
    expect(l.properties.customer).toBeUndefined();
    expect(l.properties.emailSha256).toBeUndefined();
    expect(t.store.contacts.count()).toBe(contactsBefore);
    expect([...t.store.events.links.entries(ACCOUNT, "email", EMAIL_HASH)]).toEqual([]);
    expect(stored(samsNext)!.context.suppressed).toBeUndefined();
    expect([...t.store.events.links.entries(ACCOUNT, "user", "sam-42")]).toHaveLength(1);
  });

  test("a UUID account, a Unicode user ID and a device ID at the field length limit", async () => {
    const account = crypto.randomUUID();
    // 256 UTF-16 units (limits.maxFieldLength): accents, CJK, an emoji (two units), RTL.
    const user = `Zoë-李-🚗-\u05e9\u05dc\u05d5\u05dd-${"é".repeat(256)}`.slice(0, 256);
    const device = `d-${"x".repeat(254)}`;
    expect([user.length, device.length]).toEqual([256, 256]);
    const visit = await t.collect(
      validEvent({
        action: "view",
        object: "page",
        instance_id: crypto.randomUUID(),
        userId: user,
        deviceId: device,
      }),
      {
        aid: account,
        query: "?sdk=web-test",
        headers: { "content-type": "text/plain", origin: WEB, "user-agent": BROWSER_UA },
      },
    );
    expect(visit.status).toBe(204);
    const id = visit.headers.get("x-event-id")!;
    const res = await erase({ identifiers: { userId: user }, accountId: account });
    const body = (await res.json()) as { counts: { events: number }; suppressed: number };
    expect([res.status, body.counts.events]).toEqual([200, 1]);
    expect(stored(id)).toBeUndefined();
    const again = await t.collect(
      validEvent({ instance_id: crypto.randomUUID(), deviceId: device }),
      {
        aid: account,
      },
    );
    const event = stored(again.headers.get("x-event-id")!)!;
    expect(event.context.suppressed).toBe(true); // the device was reached through the user, and suppressed
    expect(event.properties.deviceId).toBeUndefined();
  });

  test("the suppression outlives a restart; an erasure for every account covers new ones", async () => {
    const all = await erase({ identifiers: { userId: "sam-42" }, accountId: null });
    expect(((await all.json()) as { accounts: unknown }).accounts).toBeNull();
    await t.store.close();
    const config = testConfig({ dataDir: t.dir });
    const store = openStore({ dataDir: t.dir, durability: "durable", rejectLogSize: 100 });
    try {
      const app = createApp({ config, store, adminToken: ADMIN_TOKEN, log: createLog("error") });
      const post = async (aid: string, fields: Record<string, unknown>) => {
        const res = await app.handle(
          new Request(`${BASE}/collect/${aid}/1/event`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(validEvent(fields)),
          }),
        );
        return store.events.get(res.headers.get("x-event-id")!) as TrackedEvent;
      };
      const again = await post(ACCOUNT, { instance_id: CHAT, emailSha256: EMAIL_HASH });
      expect(again.context.suppressed).toBe(true);
      expect([...store.events.links.entries(ACCOUNT, "instance", CHAT)]).toEqual([]);
      const elsewhere = await post("2002", { instance_id: crypto.randomUUID(), userId: "sam-42" });
      expect(elsewhere.context.suppressed).toBe(true);
      // The e-mail was erased in account 1001 only.
      const other = await post("2002", {
        instance_id: crypto.randomUUID(),
        emailSha256: EMAIL_HASH,
      });
      expect(other.context.suppressed).toBeUndefined();
      // trackd verify finds the store whole: erased events gone with their links, suppressed
      // ones (the chat ID kept as the event's instance ID) without the links never written.
      const report = await verifyStore(t.dir);
      expect([report.problems, report.moreProblems]).toEqual([[], 0]);
    } finally {
      await store.close();
      t.store.close = async () => {}; // closed here already
    }
  });
});
