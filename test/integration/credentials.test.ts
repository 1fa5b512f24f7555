/**
 * Scoped credentials: leaked read, export and account-limited credentials tried against every
 * admin route the router has (a new route is covered without editing this file), in every
 * hostile spelling; another account's events, journeys, leads, attribution and exports asked
 * for by ID; what each role may do, sessions made with a credential, revocation, and the
 * access log of who read what.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ACCESS } from "../../server/http/admin-access.ts";
import type { Sink } from "../../server/sinks/types.ts";
import { createDeliveryApp, type DeliveryApp } from "../helpers/delivery-app.ts";
import { appRoutes, letInByShape, PUBLIC_ADMIN, type AppRoute } from "../helpers/route-shapes.ts";
import { ADMIN_TOKEN, createTestApp, validEvent } from "../helpers/test-app.ts";

const A = "5d0e8a3c-1f2b-4c6d-9e7f-0a1b2c3d4e5f";
const B = "9b8a7c6d-5e4f-4321-8765-fedcba987654";
const WEB = "https://mainstreet.example";

const okSink: Sink = {
  name: "ok",
  kind: "test",
  send: async () => ({ kind: "ok" }),
  health: async () => ({ ok: true, detail: "" }),
  close: async () => {},
};

let d: DeliveryApp;
let routes: AppRoute[];
/** Per account: a shopper's instance ID, their page view and their lead. */
const planted: Record<string, { instance: string; view: string; lead: string }> = {};
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};

async function call(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Response> {
  return d.app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    }),
  );
}

const owner = (method: string, path: string, body?: unknown) =>
  call(method, `/admin/api${path}`, ADMIN_TOKEN, body);

async function makeCredential(name: string, role: string, accounts: string[] | null) {
  const res = await owner("POST", "/credentials", { name, role, accounts });
  expect(res.status).toBe(201);
  const made = (await res.json()) as { id: string; token: string };
  tokens[name] = made.token;
  ids[name] = made.id;
}

/** Fills a route's pattern for account `account`: its IDs, its event, its shopper. */
function pathFor(route: AppRoute, account: string): string {
  const p = planted[account]!;
  const path = route.pattern
    .replace(":accountId", account)
    .replace(":instanceId", p.instance)
    .replace(":eventId", route.pattern.includes("/leads/") ? p.lead : p.view)
    .replace(":secretId", "0")
    .replace(":name", "Vendor A")
    // /registry/accounts/:id is the account; /registry/trackers/:accountId/:id its tracker.
    .replace(":id", route.pattern.includes("/trackers/") ? "1" : account);
  const access = ACCESS[`${route.method} ${route.pattern}`];
  const takesAccount = access && typeof access.account === "object" && "query" in access.account;
  return takesAccount ? `${path}?accountId=${account}` : path;
}

beforeAll(async () => {
  d = await createDeliveryApp([okSink]);
  routes = appRoutes(d.app).filter(
    (r) => r.pattern.startsWith("/admin/api") && !PUBLIC_ADMIN.has(r.pattern),
  );
  for (const account of [A, B]) {
    expect((await owner("PUT", `/registry/accounts/${account}`, { name: account })).status).toBe(
      200,
    );
    expect(
      (await owner("PUT", `/registry/trackers/${account}/1`, { name: "Website" })).status,
    ).toBe(200);
    const instance = crypto.randomUUID();
    const device = crypto.randomUUID();
    const send = (body: Record<string, unknown>, headers: Record<string, string>) =>
      d.app.handle(
        new Request(`http://localhost/collect/${account}/1/event`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        }),
      );
    const view = await send(
      validEvent({
        action: "view",
        object: "page",
        instance_id: instance,
        deviceId: device,
        visitId: crypto.randomUUID(),
        pageUrl: `${WEB}/?utm_source=google&gclid=Cj0${account.slice(0, 8)}`,
      }),
      { origin: WEB },
    );
    const lead = await send(
      validEvent({ action: "submit", object: "form", instance_id: instance }),
      {},
    );
    planted[account] = {
      instance,
      view: view.headers.get("x-event-id")!,
      lead: lead.headers.get("x-event-id")!,
    };
  }
  await makeCredential("readA", "read", [A]);
  await makeCredential("exportA", "export", [A]);
  await makeCredential("adminA", "admin", [A]);
  await makeCredential("readAll", "read", null);
}, 60000);
afterAll(() => d.destroy());

/** What of account B a body must never show to a credential limited to A. */
const secretsOfB = () => [B, planted[B]!.instance, planted[B]!.view, planted[B]!.lead];

describe("a credential limited to account A", () => {
  test("gets nothing of account B from any route the router has, by any method", async () => {
    const leaks: string[] = [];
    for (const name of ["readA", "exportA", "adminA"])
      for (const route of routes) {
        const path = pathFor(route, B);
        const res = await call(route.method, path, tokens[name]!, { name: "bypass" });
        const text = await res.text();
        // A list of the credential's own accounts (the registry) answers; nothing else does.
        const filtered = ACCESS[`${route.method} ${route.pattern}`]?.account === "filtered";
        if ((res.status < 400 && !filtered) || res.status >= 500 || res.status === 401)
          leaks.push(`${name} ${route.method} ${route.pattern}: ${res.status}`);
        // (An error may repeat what the request itself named.)
        for (const secret of secretsOfB())
          if (text.includes(secret) && !path.includes(secret))
            leaks.push(`${name} ${route.method} ${route.pattern} shows ${secret}`);
      }
    expect(leaks).toEqual([]);
    // B is as it was.
    const registry = await (await owner("GET", "/registry")).json();
    expect(registry.accounts.map((a: { id: string }) => a.id).sort()).toEqual([A, B].sort());
  });

  test("reads its own account's events, journey, leads, attribution and exports", async () => {
    const own = planted[A]!;
    const reads = [
      `/events?accountId=${A}`,
      `/events/${own.view}`,
      `/journey?accountId=${A}&eventId=${own.lead}`,
      `/leads?accountId=${A}`,
      `/leads/${own.lead}?accountId=${A}`,
      `/attribution?accountId=${A}`,
      `/leads.csv?accountId=${A}`,
      `/conversions/google-ads.csv?accountId=${A}`,
    ];
    for (const path of reads) {
      const res = await call("GET", `/admin/api${path}`, tokens.readA!);
      expect([path, res.status]).toEqual([path, 200]);
      expect(await res.text()).not.toContain(B);
    }
    const leads = await (
      await call("GET", `/admin/api/leads?accountId=${A}`, tokens.readA!)
    ).text();
    expect(leads).toContain(own.lead);
    // Listing without the account is refused rather than filtered silently.
    const unscoped = await call("GET", "/admin/api/events", tokens.readA!);
    expect(unscoped.status).toBe(400);
    const registry = await (await call("GET", "/admin/api/registry", tokens.readA!)).json();
    expect(registry.accounts.map((a: { id: string }) => a.id)).toEqual([A]);
  });

  test("admin: changes its own account, and nothing beyond it", async () => {
    const put = (path: string, body: unknown) =>
      call("PUT", `/admin/api${path}`, tokens.adminA!, body);
    expect((await put(`/registry/trackers/${A}/2`, { name: "Service" })).status).toBe(200);
    expect((await put(`/registry/trackers/${B}/2`, { name: "Service" })).status).toBe(404);
    expect((await put(`/registry/accounts/${B}`, { name: "mine now" })).status).toBe(404);
    expect((await put("/registry/vendors/Evil", { products: [] })).status).toBe(404);
    const escalate = await call("POST", "/admin/api/credentials", tokens.adminA!, {
      name: "escalated",
      role: "admin",
      accounts: null,
    });
    expect(escalate.status).toBe(404);
  });
});

describe("roles", () => {
  test("read and export credentials change nothing, on any route, in any spelling", async () => {
    const changes = routes.filter((r) => r.method !== "GET");
    for (const name of ["readA", "exportA", "readAll"]) {
      const failures = await letInByShape(
        d.app,
        changes.map((r) => ({ ...r, path: pathFor(r, A) })),
        { authorization: `Bearer ${tokens[name]}`, "content-type": "application/json" },
        JSON.stringify({ name: "bypass", role: "admin", products: ["x"] }),
        [400, 401, 403, 404, 405],
      );
      expect(failures).toEqual([]);
    }
    const registry = await (await owner("GET", "/registry")).json();
    expect(registry.vendors).toEqual([]);
    expect(registry.accounts.map((a: { name: string }) => a.name).sort()).toEqual([A, B].sort());
  });

  test("an export credential fetches the export files and nothing else", async () => {
    const exports = new Set(["/admin/api/leads.csv", "/admin/api/leads.ndjson"]);
    for (const route of routes.filter((r) => r.method === "GET")) {
      const res = await call("GET", pathFor(route, A), tokens.exportA!);
      if (exports.has(route.pattern) || route.pattern.startsWith("/admin/api/conversions/"))
        expect([route.pattern, res.status]).toEqual([route.pattern, 200]);
      else expect([route.pattern, [403, 404].includes(res.status)]).toEqual([route.pattern, true]);
      await res.body?.cancel();
    }
  });

  test("a read credential for every account reads across them, but not the owner's routes", async () => {
    expect((await call("GET", "/admin/api/overview", tokens.readAll!)).status).toBe(200);
    expect((await call("GET", `/admin/api/leads?accountId=${B}`, tokens.readAll!)).status).toBe(
      200,
    );
    expect((await call("GET", "/admin/api/credentials", tokens.readAll!)).status).toBe(403);
    expect((await call("GET", "/admin/api/access-log", tokens.readAll!)).status).toBe(403);
  });
});

describe("sessions, revocation and the access log", () => {
  test("a credential logs in to the page, sees only its accounts, and its session ends when revoked", async () => {
    await makeCredential("pageA", "read", [A]);
    const login = await call("POST", "/admin/api/login", null, { token: tokens.pageA });
    expect(login.status).toBe(204);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const withCookie = (path: string) =>
      d.app.handle(new Request(`http://localhost/admin/api${path}`, { headers: { cookie } }));
    const who = await (await withCookie("/session")).json();
    expect(who).toEqual({ authenticated: true, name: "pageA", role: "read", accounts: [A] });
    expect((await withCookie(`/leads?accountId=${A}`)).status).toBe(200);
    expect((await withCookie(`/leads?accountId=${B}`)).status).toBe(404);
    expect((await owner("DELETE", `/credentials/${ids.pageA}`)).status).toBe(204);
    expect((await withCookie(`/leads?accountId=${A}`)).status).toBe(401);
    expect((await call("GET", `/admin/api/leads?accountId=${A}`, tokens.pageA!)).status).toBe(401);
  });

  test("the credentials list shows names, roles, accounts and last use, never a token", async () => {
    const text = await (await owner("GET", "/credentials")).text();
    for (const name of ["readA", "exportA", "adminA", "readAll"]) {
      expect(text).toContain(`"name":"${name}"`);
      expect(text).not.toContain(tokens[name]!);
    }
    const list = JSON.parse(text) as { name: string; lastUsedAt: string | null }[];
    expect(list.find((c) => c.name === "readA")!.lastUsedAt).not.toBeNull();
  });

  test("reads of leads and journeys are in the access log with who read them", async () => {
    const path = `/admin/api/journey?accountId=${A}&eventId=${planted[A]!.lead}`;
    expect((await call("GET", path, tokens.readA!)).status).toBe(200);
    await d.store.accessLog.database.flushed;
    const log = (await (await owner("GET", "/access-log?limit=1000")).json()) as {
      entries: { who: { id: string; name: string }; route: string; target: string }[];
    };
    const entry = log.entries.find((e) => e.target === path);
    expect(entry).toMatchObject({
      who: { id: ids.readA, name: "readA", role: "read" },
      route: "/admin/api/journey",
    });
    // Reads refused by the gate are not reads; the registry is not customer data.
    expect(log.entries.some((e) => e.route === "/admin/api/registry/")).toBe(false);
  });

  test("bad credential bodies are 400 naming the field", async () => {
    for (const [body, path] of [
      [{ name: "x", role: "owner" }, "/role"],
      [{ name: "", role: "read" }, "/name"],
      [{ name: "x", role: "read", accounts: ["not an id"] }, "/accounts/0"],
      [{ name: "x", role: "read", accounts: ["424242"] }, "/accounts/0"],
      [{ name: "x", role: "read", accounts: [] }, "/accounts"],
    ] as const) {
      const res = await owner("POST", "/credentials", body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as { error: { details: { path: string }[] } };
      expect(error.error.details.map((x) => x.path)).toContain(path);
    }
  });

  test("an account that has sent events, registered or not, can be a credential's", async () => {
    const seen = "7070";
    const sent = await d.app.handle(
      new Request(`http://localhost/collect/${seen}/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validEvent()),
      }),
    );
    expect(sent.status).toBe(204);
    const res = await owner("POST", "/credentials", { name: "v", role: "read", accounts: [seen] });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { accounts: string[] }).accounts).toEqual([seen]);
  });
});

describe("the access log's keeping", () => {
  test("keeps the first read of a new server, and lets entries past admin.accessLogDays go", async () => {
    // Forward from the real clock: entry IDs are time-ordered and never go back (uuidv7).
    let now = Date.now() + 60_000;
    const t = await createTestApp({ admin: { accessLogDays: 1 } }, { now: () => now });
    try {
      const read = async (path: string) => expect((await t.admin(path)).status).toBe(200);
      await read("/leads?accountId=1001");
      await t.store.accessLog.database.flushed;
      const targets = () => t.store.accessLog.list(100).map((e) => e.target);
      expect(targets()).toEqual(["/admin/api/leads?accountId=1001"]);
      now += 2 * 86_400_000; // the next sweep, a day past the first read
      await read("/leads?accountId=1002");
      await Bun.sleep(50);
      await t.store.accessLog.database.flushed;
      expect(targets()).toEqual(["/admin/api/leads?accountId=1002"]);
    } finally {
      await t.close();
    }
  });
});
