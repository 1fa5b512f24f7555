/** The admin API behind the admin page: sessions, registry, ID check, live stream, overview. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createTestApp,
  errorOf,
  validEvent,
  type TestApp,
  ADMIN_TOKEN,
  BASE,
} from "../helpers/test-app.ts";

let t: TestApp;
const registry = {
  accounts: [{ id: "1001", name: "Main Street Motors", type: "dealership" }],
  trackers: [
    { id: "1", accountId: "1001", name: "Website" },
    { id: "2", accountId: "2002", name: "Elsewhere" },
  ],
  vendors: [{ name: "Vendor A", products: ["Product 1"] }],
};
beforeAll(async () => {
  t = await createTestApp({ registry });
  for (let i = 0; i < 3; i++)
    await t.collect(validEvent({ instance_id: `ok-${i}` }), { aid: "1001", tid: "1" });
  for (let i = 0; i < 2; i++) await t.collect(validEvent(), { aid: "1010", tid: "1" }); // transposed account digits
  await t.collect({ action: "view" }, { aid: "1001", tid: "1" });
  await t.store.rejects.written();
});
afterAll(() => t.close());

const req = (path: string, init: RequestInit = {}) =>
  t.app.handle(new Request(`${BASE}/admin/api${path}`, init));
const asAdmin = (path: string, init: RequestInit = {}) =>
  req(path, {
    ...init,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      "content-type": "application/json",
      ...(init.headers ?? {}),
    },
  });

describe("logging in", () => {
  test("exchanges the token for an HttpOnly, SameSite=Strict session cookie that opens the API", async () => {
    const res = await req("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: ADMIN_TOKEN }),
    });
    expect(res.status).toBe(204);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toMatch(/Max-Age=\d+/);
    const session = cookie.split(";")[0]!;
    expect((await req("/events", { headers: { cookie: session } })).status).toBe(200);
    expect((await req("/session", { headers: { cookie: session } })).status).toBe(200);
    expect((await req("/events", { headers: { cookie: session.replace(/.$/, "x") } })).status).toBe(
      401,
    );
    const out = await req("/logout", { method: "POST" });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });

  test("refuses a wrong token, then rate-limits repeated failures with Retry-After", async () => {
    const attempt = () =>
      t.app.handle(
        new Request(`${BASE}/admin/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: "guess" }),
        }),
      );
    const first = await attempt();
    expect(first.status).toBe(401);
    expect((await errorOf(first)).code).toBe("invalid_token");
    for (let i = 0; i < 4; i++) await attempt();
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(limited)).code).toBe("rate_limited");
  });

  test("every admin route refuses requests without a token or session", async () => {
    const routes: [string, string][] = [
      ["GET", "/events"],
      ["GET", "/events/stream"],
      ["GET", "/rejects"],
      ["GET", "/rejects/summary"],
      ["GET", "/trackers"],
      ["GET", "/check?aid=1&tid=1"],
      ["GET", "/unregistered"],
      ["GET", "/overview"],
      ["GET", "/registry"],
      ["PUT", "/registry/accounts/5"],
      ["DELETE", "/registry/accounts/5"],
      ["PUT", "/registry/trackers/5/6"],
      ["DELETE", "/registry/trackers/5/6"],
      ["PUT", "/registry/vendors/x"],
      ["DELETE", "/registry/vendors/x"],
      ["GET", "/session"],
      ["GET", "/events/01a215e9-a834-700f-842e-a349d6da5893"],
      ["GET", "/instances/1001/ok-1"],
    ];
    for (const [method, path] of routes) {
      const res = await req(path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "PUT" ? JSON.stringify({ name: "x" }) : undefined,
      });
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
  });
});

describe("the registry", () => {
  test("is seeded from the config and editable: create, rename, delete", async () => {
    const seeded = (await (await asAdmin("/registry")).json()) as {
      accounts: { id: string }[];
      trackers: { id: string; accountId: string }[];
      vendors: { name: string }[];
    };
    expect(seeded.accounts.map((a) => a.id)).toEqual(["1001"]);
    expect(
      (
        await asAdmin("/registry/accounts/3003", {
          method: "PUT",
          body: JSON.stringify({ name: "Hill Auto", type: "dealership" }),
        })
      ).status,
    ).toBe(200);
    expect(
      await (
        await asAdmin("/registry/accounts/3003", {
          method: "PUT",
          body: JSON.stringify({ name: "Hill Auto Group" }),
        })
      ).json(),
    ).toMatchObject({ id: "3003", name: "Hill Auto Group" });
    expect(
      (
        await asAdmin("/registry/trackers/3003/9", {
          method: "PUT",
          body: JSON.stringify({ name: "Kiosk", allowedOrigins: ["https://hill.example"] }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await asAdmin("/registry/trackers/3003/9", {
          method: "PUT",
          body: JSON.stringify({ name: "Kiosk", allowedOrigins: ["https://hill.example/"] }),
        })
      ).status,
    ).toBe(400);
    const orphan = await asAdmin("/registry/trackers/4004/9", {
      method: "PUT",
      body: JSON.stringify({ name: "No account" }),
    });
    expect(orphan.status).toBe(400);
    expect(
      (
        await asAdmin("/registry/accounts/abc", {
          method: "PUT",
          body: JSON.stringify({ name: "Bad" }),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await asAdmin("/registry/vendors/Chat%20Co", {
          method: "PUT",
          body: JSON.stringify({ products: ["Widget"] }),
        })
      ).status,
    ).toBe(200);
    expect((await asAdmin("/registry/accounts/3003", { method: "DELETE" })).status).toBe(204);
    expect((await asAdmin("/registry/accounts/3003", { method: "DELETE" })).status).toBe(404);
    const after = (await (await asAdmin("/registry")).json()) as {
      accounts: { id: string }[];
      trackers: { accountId: string }[];
      vendors: { name: string }[];
    };
    expect(after.accounts.map((a) => a.id)).toEqual(["1001"]);
    expect(after.trackers.some((tr) => tr.accountId === "3003")).toBe(false); // went with its account
    expect(after.vendors.map((v) => v.name)).toContain("Chat Co");
  });
});

describe("hostile admin input", () => {
  test("long and odd IDs and names are answered without a server error", async () => {
    const long = "a".repeat(3000);
    for (const [method, path] of [
      ["GET", `/events/${long}`],
      ["GET", `/instances/1/${long}`],
      ["GET", `/instances/${long}/x`],
      ["GET", `/events?accountId=1&instanceId=${"é".repeat(400)}`],
      ["GET", `/check?aid=${long.slice(0, 90)}&tid=%00`],
      ["PUT", `/registry/vendors/${long}`],
      ["PUT", "/registry/vendors/100%25%20Auto"],
      ["DELETE", `/registry/vendors/${long}`],
      ["DELETE", `/registry/trackers/${long}/1`],
      ["GET", "/events/%E0%A4%A"],
      ["GET", "/instances/%E0/x"],
      ["PUT", "/registry/vendors/%E0%A4%A"],
      ["PUT", "/registry/accounts/%ZZ"],
      ["DELETE", "/registry/vendors/%ZZ"],
    ] as const) {
      const res = await asAdmin(path, { method, body: method === "PUT" ? "{}" : undefined });
      expect([method, path.slice(0, 40), res.status < 500]).toEqual([
        method,
        path.slice(0, 40),
        true,
      ]);
    }
  });
});

/** What GET /check answers, as far as these tests read it. */
interface CheckAnswer {
  aid: { id: string; valid: boolean };
  tid: { valid: boolean };
  account: { registered: boolean };
  tracker: { registered: boolean };
  activity: unknown;
  latestEvents: unknown[];
  latestRejects: { code: string }[];
  suggestions: unknown[];
}

describe("checking IDs", () => {
  test("confirms a registered pair, with its activity, latest events and rejects", async () => {
    const check = (await (await asAdmin("/check?aid=1001&tid=1")).json()) as CheckAnswer;
    expect(check.account).toMatchObject({ registered: true, name: "Main Street Motors" });
    expect(check.tracker).toMatchObject({ registered: true, name: "Website" });
    expect(check.activity).toMatchObject({ accepted: 3, rejected: 1, lastHour: 3, lastDay: 3 });
    expect(check.latestEvents).toHaveLength(3);
    expect(check.latestRejects[0]!.code).toBe("invalid_event");
    expect(check.suggestions).toEqual([]);
  });

  test("reads the IDs from a pasted collect URL", async () => {
    const check = (await (
      await asAdmin(
        `/check?url=${encodeURIComponent("https://trackd.example/collect/1001/1/event?oa_debug=true")}`,
      )
    ).json()) as CheckAnswer;
    expect(check.aid.id).toBe("1001");
    expect(check.tracker.registered).toBe(true);
  });

  test("suggests the registered pair for a transposed account and names the account a tracker belongs to", async () => {
    const check = (await (await asAdmin("/check?aid=1010&tid=1")).json()) as CheckAnswer;
    expect(check.account.registered).toBe(false);
    expect(check.tracker).toMatchObject({ registered: false, registeredUnder: ["1001"] });
    expect(check.suggestions[0]).toMatchObject({ accountId: "1001", trackerId: "1" });
    const invalid = (await (await asAdmin("/check?aid=01&tid=x")).json()) as CheckAnswer;
    expect([invalid.aid.valid, invalid.tid.valid]).toEqual([false, false]);
  });

  test("lists unregistered pairs clients are sending, with counts and suggestions", async () => {
    const { pairs } = (await (await asAdmin("/unregistered")).json()) as {
      pairs: {
        accountId: string;
        trackerId: string;
        accepted: number;
        suggestions: { accountId: string }[];
      }[];
    };
    expect(pairs).toEqual([
      expect.objectContaining({
        accountId: "1010",
        trackerId: "1",
        accepted: 2,
        suggestions: [expect.objectContaining({ accountId: "1001" })],
      }),
    ]);
  });
});

describe("overview, rejects summary and the live stream", () => {
  test("gives events per minute, per-tracker totals, storage and rejects by code", async () => {
    const overview = (await (await asAdmin("/overview?minutes=5")).json()) as {
      perMinute: { count: number }[];
      trackers: { accountId: string; accountName: string | null }[];
      storage: { storedEvents: number };
    };
    expect(overview.perMinute).toHaveLength(5);
    expect(overview.perMinute.reduce((n, m) => n + m.count, 0)).toBe(5);
    expect(overview.trackers.find((tr) => tr.accountId === "1001")!.accountName).toBe(
      "Main Street Motors",
    );
    expect(overview.storage.storedEvents).toBe(5);
    expect(await (await asAdmin("/rejects/summary")).json()).toEqual({
      total: 1,
      byCode: { invalid_event: 1 },
    });
  });

  test("streams new events that match the filter as Server-Sent Events", async () => {
    const res = await asAdmin("/events/stream?accountId=1001");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    await t.collect(validEvent({ instance_id: "elsewhere" }), { aid: "7", tid: "7" }); // filtered out
    await t.collect(validEvent({ instance_id: "live-one" }), { aid: "1001", tid: "1" });
    let text = "";
    while (!text.includes("live-one"))
      text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("event: event\ndata: {");
    expect(text).not.toContain("elsewhere");
    await reader.cancel();
  });
});
