/**
 * The conversion files for a planted month: leads with a Google click, with only contact data,
 * with neither (left out), a gbraid, a Meta click, a later stage of a lead (in the month,
 * and of a lead from before it); exactly the expected rows, in the documented columns. The
 * account's export credential fetches them by HTTP Basic, for its own account only, and
 * every other admin route the router has refuses it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { GOOGLE_COLUMNS, META_COLUMNS } from "../../server/http/conversions-admin.ts";
import { waitFor } from "../helpers/ports.ts";
import { appRoutes, letInByShape, PUBLIC_ADMIN } from "../helpers/route-shapes.ts";
import { BASE, createTestApp, type TestApp, validEvent } from "../helpers/test-app.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const ACCOUNT = "1001";
const at = (iso: string) => Date.parse(iso);

let t: TestApp;
let now = at("2026-11-01T00:00:00Z");
const ids: Record<string, string> = {};

/** A browser page view landing on `url`, on its own device and visit, and a lead on its instance. */
async function visitThenLead(name: string, url: string, visitAt: string, leadAt: string) {
  const device = crypto.randomUUID();
  const visit = crypto.randomUUID();
  const instance = crypto.randomUUID();
  now = at(visitAt);
  await t.collect(
    validEvent({
      action: "view",
      object: "page",
      instance_id: instance,
      deviceId: device,
      visitId: visit,
      pageUrl: url,
    }),
    { aid: ACCOUNT, headers: { origin: "https://mainstreet.example" } },
  );
  now = at(leadAt);
  const res = await t.collect(
    validEvent({ action: "submit", object: "lead", vendor: "ChatVendor", instance_id: instance }),
    { aid: ACCOUNT },
  );
  ids[name] = res.headers.get("x-event-id")!;
  return instance;
}

async function lead(name: string, when: string, extra: Record<string, unknown>) {
  now = at(when);
  const res = await t.collect(
    validEvent({
      action: "submit",
      object: "lead",
      vendor: "CreditApp",
      instance_id: crypto.randomUUID(),
      ...extra,
    }),
    { aid: ACCOUNT },
  );
  expect(res.status).toBe(204);
  ids[name] = res.headers.get("x-event-id")!;
}

async function stage(
  name: string,
  when: string,
  instance: string,
  stageName: string,
  value?: number,
) {
  now = at(when);
  const res = await t.collect(
    validEvent({
      action: "change",
      object: "lead",
      vendor: "DealerCRM",
      instance_id: instance,
      stage: stageName,
      ...(value !== undefined && { value, currency: "USD" }),
    }),
    { aid: ACCOUNT },
  );
  ids[name] = res.headers.get("x-event-id")!;
}

beforeAll(async () => {
  t = await createTestApp({}, { now: () => now });
  const early = await visitThenLead(
    "october",
    "https://mainstreet.example/?gclid=OCT-gclid",
    "2026-10-20T10:00:00Z",
    "2026-10-25T10:00:00Z",
  );
  const withGclid = await visitThenLead(
    "gclid",
    "https://mainstreet.example/used?utm_source=google&gclid=Cj0-NOV-gclid",
    "2026-11-02T09:00:00Z",
    "2026-11-03T15:30:00Z",
  );
  await visitThenLead(
    "gbraid",
    "https://mainstreet.example/?gbraid=GB-1",
    "2026-11-05T08:00:00Z",
    "2026-11-05T08:10:00Z",
  );
  await visitThenLead(
    "meta",
    "https://mainstreet.example/?fbclid=FB-abc",
    "2026-11-06T08:00:00Z",
    "2026-11-06T09:00:00Z",
  );
  await lead("contact", "2026-11-10T12:00:00Z", {
    customer: { firstName: "Ann", email: "Ann.Lee@Gmail.com", phone: "512-555-0147" },
  });
  await lead("neither", "2026-11-11T12:00:00Z", {});
  await stage("sold", "2026-11-20T17:00:00Z", withGclid, "sold", 31500);
  await stage("octSold", "2026-11-21T17:00:00Z", early, "sold");
  await lead("december", "2026-12-02T12:00:00Z", { customer: { email: "dec@example.com" } });
  now = at("2026-12-05T00:00:00Z");
});
afterAll(() => t.close());

const month = `accountId=${ACCOUNT}&from=2026-11-01&to=2026-12-01`;

describe("the conversion files", () => {
  test("Google Ads: the time zone row, the columns, and exactly the matchable conversions", async () => {
    const res = await t.admin(`/conversions/google-ads.csv?${month}&conversionName=Chat%20lead`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const email = sha256("annlee@gmail.com");
    const phone = sha256("+15125550147");
    expect((await res.text()).split("\r\n")).toEqual([
      "Parameters:TimeZone=+0000",
      GOOGLE_COLUMNS.join(","),
      `Cj0-NOV-gclid,,,,,Chat lead,2026-11-03 15:30:00,,,${ids.gclid}`,
      `,GB-1,,,,Chat lead,2026-11-05 08:10:00,,,${ids.gbraid}`,
      `,,,${email},${phone},Chat lead,2026-11-10 12:00:00,,,${ids.contact}`,
      `Cj0-NOV-gclid,,,,,sold,2026-11-20 17:00:00,31500,USD,${ids.sold}`,
      `OCT-gclid,,,,,sold,2026-11-21 17:00:00,,,${ids.octSold}`,
      "",
    ]);
  });

  test("Meta: its columns, fbc made from the fbclid, contact hashed as Meta does", async () => {
    const res = await t.admin(`/conversions/meta.csv?${month}`);
    const lines = (await res.text()).split("\r\n");
    expect(lines[0]).toBe(META_COLUMNS.join(","));
    const fbc = `fb.1.${at("2026-11-06T08:00:00Z")}.FB-abc`;
    expect(lines.slice(1)).toEqual([
      `Lead,${at("2026-11-06T09:00:00Z") / 1000},system_generated,,${fbc},,,,,,${ids.meta}`,
      `Lead,${at("2026-11-10T12:00:00Z") / 1000},system_generated,,,,${sha256("ann.lee@gmail.com")},${sha256("15125550147")},,,${ids.contact}`,
      "",
    ]);
  });

  test("the export credential fetches its account's files by Basic auth, and nothing else", async () => {
    const made = await t.app.handle(
      new Request(`${BASE}/admin/api/registry/accounts/${ACCOUNT}/export-credential`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token" },
      }),
    );
    expect(made.status).toBe(201);
    const { username, password } = (await made.json()) as { username: string; password: string };
    expect(username).toBe(`export-${ACCOUNT}`);
    const basic = {
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`,
    };
    const get = (path: string, headers: Record<string, string> = basic, method = "GET") =>
      t.app.handle(new Request(`${BASE}${path}`, { method, headers }));

    const ok = await get(`/admin/api/conversions/google-ads.csv?${month}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain(ids.gclid!);
    // Another account: as if it did not exist.
    expect((await get(`/admin/api/conversions/google-ads.csv?accountId=1002`)).status).toBe(404);
    // A wrong password, and the admin routes: refused.
    const wrong = { authorization: `Basic ${Buffer.from(`${username}:nope`).toString("base64")}` };
    expect((await get(`/admin/api/conversions/meta.csv?${month}`, wrong)).status).toBe(401);
    const others = appRoutes(t.app).filter(
      (r) =>
        r.pattern.startsWith("/admin/api/") &&
        !r.pattern.startsWith("/admin/api/conversions/") &&
        !PUBLIC_ADMIN.has(r.pattern),
    );
    expect(others.length).toBeGreaterThan(25);
    const let_in: string[] = [];
    for (const r of others) {
      const res = await get(r.path.replace(":accountId", ACCOUNT), basic, r.method);
      if (res.status !== 401) let_in.push(`${r.method} ${r.pattern}: ${res.status}`);
      await res.body?.cancel();
    }
    expect(let_in).toEqual([]);
    // Nor in any hostile spelling of a request (Host, absolute form, //, dot segments, %-escapes,
    // case): the gate decides on the router's own match, never on a second reading of the path.
    expect(await letInByShape(t.app, others, basic)).toEqual([]);
    // Its last use is shown; a new credential ends the old one.
    const info = async () =>
      (await (await t.admin(`/registry/accounts/${ACCOUNT}/export-credential`)).json()) as {
        username: string;
        lastUsedAt: string | null;
      };
    // The last use is written in the background (at most once a minute), not before the answer.
    await waitFor("the credential's last use", async () => (await info()).lastUsedAt !== null);
    expect(await info()).toMatchObject({ username, lastUsedAt: expect.any(String) });
    expect(JSON.stringify(await info())).not.toContain(password);
    await t.app.handle(
      new Request(`${BASE}/admin/api/registry/accounts/${ACCOUNT}/export-credential`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token" },
      }),
    );
    expect((await get(`/admin/api/conversions/google-ads.csv?${month}`)).status).toBe(401);
  });
});
