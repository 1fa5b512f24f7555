/**
 * Signed server events: a tracker that asks for them takes a server-side event only with a
 * valid X-Trackd-Signature (or, in bearer mode, its secret). Forged, tampered, expired,
 * replayed and malformed signatures are refused or stored nothing; reordered parts, two
 * signatures during a rotation and compressed bodies work; browser events are not asked;
 * a tracker that flags instead stores the event as unverified, never a lead.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { LeadPage } from "../../server/journey/leads.ts";
import { STORE_FILE } from "../../server/store/open-store.ts";
import { SECRETS_KEY_FILE } from "../../server/store/tracker-secrets.ts";
import {
  ADMIN_TOKEN,
  BASE,
  createTestApp,
  errorOf,
  type TestApp,
  validEvent,
} from "../helpers/test-app.ts";

const ACCOUNT = "7f3c2a9e-4b1d-4e8a-9c6f-2d5b8a1e3f70";
const TRACKER = "0b9d4c2e-6a7f-4d3b-8e1c-5f2a9b7c4d60";
const WEB = "https://mainstreet.example";
const T0 = Date.parse("2026-12-01T15:00:00Z");

let t: TestApp;
let now = T0;
let secrets: { id: string; secret: string }[] = [];

const unix = (ms = now) => Math.round(ms / 1000);
const hmac = (secret: string, payload: string | Uint8Array, at: number) =>
  createHmac("sha256", secret).update(`${at}.`).update(payload).digest("hex");
const signature = (secret: string, payload: string | Uint8Array, at = unix()) =>
  `t=${at},v1=${hmac(secret, payload, at)}`;

const lead = (overrides: Record<string, unknown> = {}) =>
  validEvent({
    action: "submit",
    object: "form",
    instance_id: crypto.randomUUID(),
    eventId: crypto.randomUUID(),
    ...overrides,
  });

/** Posts a body as its exact bytes, with the given headers (a server client: no Origin). */
function post(body: string | Uint8Array, headers: Record<string, string> = {}, path = "event") {
  return t.app.handle(
    new Request(`${BASE}/collect/${ACCOUNT}/${TRACKER}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: body as BodyInit,
    }),
  );
}

function adminCall(method: string, path: string, body?: unknown) {
  return t.app.handle(
    new Request(`${BASE}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    }),
  );
}

const setTracker = (settings: Record<string, unknown>) =>
  t.adminPut(`/registry/trackers/${ACCOUNT}/${TRACKER}`, { name: "Website", ...settings });

async function leadsNow(): Promise<string[]> {
  const page = (await (
    await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000`)
  ).json()) as LeadPage;
  return page.leads.map((l) => l.lead.eventId);
}

beforeAll(async () => {
  t = await createTestApp({}, { now: () => now });
  expect((await t.adminPut(`/registry/accounts/${ACCOUNT}`, { name: "Main Street" })).status).toBe(
    200,
  );
  expect((await setTracker({ serverAuth: "hmac" })).status).toBe(200);
  for (let i = 0; i < 2; i++) {
    const res = await adminCall("POST", `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets`);
    expect(res.status).toBe(201);
    secrets.push((await res.json()) as { id: string; secret: string });
  }
});
afterAll(() => t.close());

describe("secrets", () => {
  test("at most two live; listed without the secret; kept nowhere in the store file", async () => {
    const third = await adminCall("POST", `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets`);
    expect(third.status).toBe(409);
    expect((await errorOf(third)).code).toBe("too_many_secrets");
    const listed = await (
      await adminCall("GET", `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets`)
    ).text();
    for (const s of secrets) {
      expect(listed).toContain(s.id);
      expect(listed).not.toContain(s.secret);
    }
    const registry = await (await t.admin("/registry")).json();
    const tracker = registry.trackers.find((x: { id: string }) => x.id === TRACKER);
    expect(tracker.serverAuth).toBe("hmac");
    expect(tracker.secrets.map((s: { id: string }) => s.id)).toEqual(secrets.map((s) => s.id));
    await t.store.trackerSecrets.database.flushed;
    const file = readFileSync(join(t.dir, STORE_FILE)).toString("latin1");
    for (const s of secrets) expect(file).not.toContain(s.secret);
    expect(readFileSync(join(t.dir, SECRETS_KEY_FILE), "utf8").length).toBeGreaterThan(40);
  });

  test("a tracker that does not exist has no secrets to make", async () => {
    const res = await adminCall("POST", `/registry/trackers/${ACCOUNT}/999/secrets`);
    expect(res.status).toBe(404);
  });

  test("renaming the tracker keeps its serverAuth", async () => {
    expect((await setTracker({})).status).toBe(200);
    const registry = await (await t.admin("/registry")).json();
    expect(registry.trackers[0].serverAuth).toBe("hmac");
  });
});

describe("hmac", () => {
  test("a signed lead is stored, verified, and is a lead", async () => {
    const body = JSON.stringify(lead());
    const res = await post(body, { "x-trackd-signature": signature(secrets[0]!.secret, body) });
    expect(res.status).toBe(204);
    const id = res.headers.get("x-event-id")!;
    expect(t.store.events.get(id)!.context.auth).toEqual({ method: "hmac", verified: true });
    expect(await leadsNow()).toContain(id);
  });

  test("unsigned, forged, tampered and foreign-secret events are refused and store nothing", async () => {
    const body = JSON.stringify(lead());
    const other = `tds_${"A".repeat(43)}`;
    const cases: [Record<string, string>, string, string][] = [
      [{}, body, "signature_required"],
      [{ "x-trackd-signature": signature(other, body) }, body, "invalid_signature"],
      [
        { "x-trackd-signature": signature(secrets[0]!.secret, body) },
        body.replace("submit", "SUBMIT"),
        "invalid_signature",
      ],
      // The right HMAC of the body, but under a time other than the one it claims.
      [
        { "x-trackd-signature": `t=${unix() - 1},v1=${hmac(secrets[0]!.secret, body, unix())}` },
        body,
        "invalid_signature",
      ],
      // A bearer secret is no signature on an hmac tracker.
      [{ authorization: `Bearer ${secrets[0]!.secret}` }, body, "signature_required"],
    ];
    const before = t.store.events.count();
    for (const [headers, sent, code] of cases) {
      const res = await post(sent, headers);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe(code);
    }
    expect(t.store.events.count()).toBe(before);
    await t.store.rejects.written();
    const codes = t.store.rejects.list({ limit: 10 }).map((r) => r.code);
    expect(codes).toContain("invalid_signature");
    expect(codes).toContain("signature_required");
  });

  test("a signature older or newer than 300 s is expired; one within it is good", async () => {
    const body = JSON.stringify(lead());
    for (const skew of [-301, 301]) {
      const res = await post(body, {
        "x-trackd-signature": signature(secrets[0]!.secret, body, unix() + skew),
      });
      expect(res.status).toBe(401);
      const error = await errorOf(res);
      expect(error.code).toBe("signature_expired");
      expect(error.details[0]!.message).toContain("301 s");
    }
    const ok = await post(body, {
      "x-trackd-signature": signature(secrets[0]!.secret, body, unix() - 299),
    });
    expect(ok.status).toBe(204);
  });

  test("a replay is a duplicate of the first: nothing new is stored, even without an eventId", async () => {
    const { eventId: _, ...withoutId } = lead();
    const body = JSON.stringify(withoutId);
    const headers = { "x-trackd-signature": signature(secrets[1]!.secret, body) };
    const first = await post(body, headers);
    expect(first.status).toBe(204);
    const count = t.store.events.count();
    now += 60_000;
    for (let i = 0; i < 3; i++) {
      const again = await post(body, headers);
      expect(again.status).toBe(204);
      expect(again.headers.get("x-duplicate")).toBe("true");
      expect(again.headers.get("x-event-id")).toBe(first.headers.get("x-event-id"));
    }
    expect(t.store.events.count()).toBe(count);
    // Past the window the same request is expired, not stored.
    now += 300_000;
    expect((await errorOf(await post(body, headers))).code).toBe("signature_expired");
    expect(t.store.events.count()).toBe(count);
  });

  test("parts in any order, unknown parts, and one good v1 among several are accepted", async () => {
    const body = JSON.stringify(lead());
    const at = unix();
    const good = hmac(secrets[0]!.secret, body, at);
    const bad = "0".repeat(64);
    for (const header of [
      `v1=${good},t=${at}`,
      ` t=${at} , v0=legacy, v1=${bad}, v1=${good.toUpperCase()} `,
      `v1=${bad},v1=${hmac(secrets[1]!.secret, body, at)},t=${at}`,
    ]) {
      const fresh = body.replace(/"eventId":"[^"]+"/, `"eventId":"${crypto.randomUUID()}"`);
      const signed = header
        .replaceAll(good, hmac(secrets[0]!.secret, fresh, at))
        .replaceAll(good.toUpperCase(), hmac(secrets[0]!.secret, fresh, at).toUpperCase());
      const second = signed.replaceAll(
        hmac(secrets[1]!.secret, body, at),
        hmac(secrets[1]!.secret, fresh, at),
      );
      expect((await post(fresh, { "x-trackd-signature": second })).status).toBe(204);
    }
  });

  test("malformed headers are 401 with what is wrong, never a 5xx", async () => {
    const body = JSON.stringify(lead());
    const at = unix();
    const good = hmac(secrets[0]!.secret, body, at);
    const blns = JSON.parse(
      readFileSync(join(import.meta.dir, "../fixtures/blns/blns.json"), "utf8"),
    ) as string[];
    const shapes = [
      "",
      "t=",
      `t=${at}`,
      `v1=${good}`,
      `t=${at},t=${at},v1=${good}`,
      `t=${at}.5,v1=${good}`,
      `t=-${at},v1=${good}`,
      `t=${at},v1=${good.slice(1)}`,
      `t=${at},v1=${good}0`,
      `t=${at};v1=${good}`,
      `t=${at},v1=${good},`.repeat(40),
      ...blns.filter((s) => /^[\x20-\x7e]*$/.test(s)),
    ];
    for (const shape of shapes) {
      const res = await post(body, { "x-trackd-signature": shape });
      if (res.status === 204) throw new Error(`accepted ${JSON.stringify(shape)}`);
      expect([400, 401]).toContain(res.status);
      const error = await errorOf(res);
      expect(["invalid_signature", "signature_required"]).toContain(error.code);
    }
  });

  test("a gzipped body is signed as sent, compressed", async () => {
    const body = gzipSync(JSON.stringify(lead()));
    const res = await post(body, {
      "content-encoding": "gzip",
      "x-trackd-signature": signature(secrets[0]!.secret, body),
    });
    expect(res.status).toBe(204);
  });

  test("a signed batch is stored whole, and its replay stores nothing", async () => {
    const batch = JSON.stringify([lead({ eventId: undefined }), lead({ eventId: undefined })]);
    const headers = { "x-trackd-signature": signature(secrets[0]!.secret, batch) };
    const first = (await (await post(batch, headers, "events")).json()) as { accepted: number };
    expect(first.accepted).toBe(2);
    const again = (await (await post(batch, headers, "events")).json()) as {
      accepted: number;
      duplicates: number;
    };
    expect(again).toMatchObject({ accepted: 0, duplicates: 2 });
  });

  test("a GET signs its query string", async () => {
    const query = new URLSearchParams({
      action: "submit",
      object: "form",
      vendor: "Vendor A",
      product: "Credit app",
      instance_id: crypto.randomUUID(),
    }).toString();
    const get = (headers: Record<string, string>) =>
      t.app.handle(
        new Request(`${BASE}/collect/${ACCOUNT}/${TRACKER}/event?${query}`, { headers }),
      );
    expect((await get({})).status).toBe(401);
    const res = await get({ "x-trackd-signature": signature(secrets[0]!.secret, query) });
    expect(res.status).toBe(204);
  });

  test("browser events are not asked to sign, and never count as leads", async () => {
    const body = JSON.stringify(lead());
    const res = await post(body, { origin: WEB });
    expect(res.status).toBe(204);
    const id = res.headers.get("x-event-id")!;
    expect(t.store.events.get(id)!.context).toMatchObject({ source: "browser" });
    expect(t.store.events.get(id)!.context.auth).toBeUndefined();
    expect(await leadsNow()).not.toContain(id);
  });

  test("oa_debug says what an unsigned event would get", async () => {
    const res = await t.app.handle(
      new Request(`${BASE}/collect/${ACCOUNT}/${TRACKER}/event?oa_debug=true`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(lead()),
      }),
    );
    const report = await res.json();
    expect(report.wouldRespond).toEqual({ status: 401, code: "signature_required" });
  });

  test("a retired secret no longer signs; the other still does", async () => {
    const [old, next] = secrets as [{ id: string; secret: string }, { id: string; secret: string }];
    const gone = await adminCall(
      "DELETE",
      `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets/${old.id}`,
    );
    expect(gone.status).toBe(204);
    const body = JSON.stringify(lead());
    expect((await post(body, { "x-trackd-signature": signature(old.secret, body) })).status).toBe(
      401,
    );
    expect((await post(body, { "x-trackd-signature": signature(next.secret, body) })).status).toBe(
      204,
    );
    const made = await adminCall("POST", `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets`);
    expect(made.status).toBe(201);
    secrets = [next, (await made.json()) as { id: string; secret: string }];
    const listed = (await (
      await adminCall("GET", `/registry/trackers/${ACCOUNT}/${TRACKER}/secrets`)
    ).json()) as { id: string; lastUsedAt: string | null; usable: boolean }[];
    expect(listed.map((s) => s.id)).toEqual(secrets.map((s) => s.id));
    expect(listed[0]!.lastUsedAt).not.toBeNull();
    expect(listed.every((s) => s.usable)).toBe(true);
  });
});

describe("bearer and flag", () => {
  test("bearer: the secret as a bearer token, or a signature; a wrong one is refused", async () => {
    expect((await setTracker({ serverAuth: "bearer" })).status).toBe(200);
    const body = JSON.stringify(lead());
    const res = await post(body, { authorization: `Bearer ${secrets[0]!.secret}` });
    expect(res.status).toBe(204);
    expect(t.store.events.get(res.headers.get("x-event-id")!)!.context.auth).toEqual({
      method: "bearer",
      verified: true,
    });
    const wrong = await post(JSON.stringify(lead()), { authorization: "Bearer tds_nope" });
    expect((await errorOf(wrong)).code).toBe("invalid_signature");
    const unsigned = await post(JSON.stringify(lead()));
    expect((await errorOf(unsigned)).code).toBe("signature_required");
    const signed = JSON.stringify(lead());
    expect(
      (await post(signed, { "x-trackd-signature": signature(secrets[1]!.secret, signed) })).status,
    ).toBe(204);
  });

  test("flag: an unproven event is stored as unverified, and is no lead", async () => {
    expect((await setTracker({ serverAuth: "hmac", unverified: "flag" })).status).toBe(200);
    const res = await post(JSON.stringify(lead()));
    expect(res.status).toBe(204);
    const id = res.headers.get("x-event-id")!;
    expect(t.store.events.get(id)!.context.auth).toEqual({
      method: "hmac",
      verified: false,
      problem: "signature_required",
    });
    expect(await leadsNow()).not.toContain(id);
  });

  test("none: nothing is asked again", async () => {
    expect((await setTracker({ serverAuth: "none", unverified: "refuse" })).status).toBe(200);
    const res = await post(JSON.stringify(lead()));
    expect(res.status).toBe(204);
    expect(t.store.events.get(res.headers.get("x-event-id")!)!.context.auth).toBeUndefined();
  });
});
