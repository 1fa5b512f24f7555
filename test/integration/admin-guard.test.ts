/**
 * The admin API's gate, against the compiled binary: nothing is read before the token is
 * checked, changes come only as JSON from trackd's own origin, a logout ends the session on
 * the server, the right token always works and wrong ones are limited and logged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import {
  adminAuth,
  BINARY_TOKEN,
  killAll,
  startFreshBinary,
  type Running,
} from "../helpers/binary.ts";

let server: Running;
beforeAll(async () => {
  server = await startFreshBinary();
}, 120000);
afterAll(killAll);

const url = (path: string) => `${server.url}/admin/api${path}`;
const host = () => new URL(server.url).host;
const put = (path: string, body: BodyInit, headers: Record<string, string>) =>
  fetch(url(path), { method: "PUT", headers, body });
const codeOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string } }).error.code;
const peakRssMb = () =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, "utf8"))![1]) / 1024;

async function login(token = BINARY_TOKEN): Promise<Response> {
  return fetch(url("/login"), {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ token }),
  });
}

describe("the admin API's gate", () => {
  test("answers 401 before reading a body: a broken one, and 100 MB ones without the memory they would take", async () => {
    const broken = await put("/registry/accounts/555", '{"name":', {
      "content-type": "application/json",
    });
    expect(broken.status).toBe(401);
    expect(await codeOf(broken)).toBe("unauthorized");
    const big = new Uint8Array(100 * 1024 * 1024).fill(0x7b);
    for (let i = 0; i < 5; i++) {
      const res = await put("/registry/accounts/555", big, { "content-type": "application/json" });
      expect(res.status).toBe(401);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(peakRssMb()).toBeLessThan(400); // one body buffered would be over 100 MB more than the process's ~100
  }, 60000);

  test("always answers an unauthenticated request with random bodies 401", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ["PUT", "/registry/accounts/1"],
          ["DELETE", "/registry/accounts/1"],
          ["POST", "/dead-letters/replay"],
          ["PUT", "/registry/vendors/x"],
          ["PUT", "/registry/trackers/1/1"],
        ),
        fc.uint8Array({ maxLength: 4096 }),
        fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
        async ([method, path], body, type) => {
          const res = await fetch(url(path), { method, headers: { "content-type": type }, body });
          expect(res.status).toBe(401);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("takes changes only as JSON from trackd's own origin (or from a bearer-token client)", async () => {
    const cookie = (await login()).headers.get("set-cookie")!.split(";")[0]!;
    const body = JSON.stringify({ name: "Main Street Motors", type: "dealership" });
    const foreign = await put("/registry/accounts/555", body, {
      cookie,
      origin: "https://evil.example",
      "content-type": "application/json",
    });
    expect([foreign.status, await codeOf(foreign)]).toEqual([403, "cross_origin_request"]);
    const noOrigin = await put("/registry/accounts/555", body, {
      cookie,
      "content-type": "application/json",
    });
    expect([noOrigin.status, await codeOf(noOrigin)]).toEqual([403, "cross_origin_request"]);
    const form = await put("/registry/accounts/555", "name=x", {
      cookie,
      origin: server.url,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect([form.status, await codeOf(form)]).toEqual([415, "json_required"]);
    expect(
      (
        await put("/registry/accounts/555", body, {
          cookie,
          origin: server.url,
          host: host(),
          "content-type": "application/json",
        })
      ).status,
    ).toBeLessThan(300);
    expect(
      (
        await put("/registry/accounts/556", body, {
          ...adminAuth,
          "content-type": "application/json",
        })
      ).status,
    ).toBeLessThan(300);
    const tooBig = await put(
      "/registry/accounts/557",
      JSON.stringify({ name: "x".repeat(70000) }),
      { ...adminAuth, "content-type": "application/json" },
    );
    expect(tooBig.status).toBe(413);
  });

  test("ends a session on the server at logout: the old cookie no longer works", async () => {
    const cookie = (await login()).headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(url("/session"), { headers: { cookie } })).status).toBe(200);
    expect(
      (await fetch(url("/logout"), { method: "POST", headers: { cookie, origin: server.url } }))
        .status,
    ).toBe(204);
    expect((await fetch(url("/session"), { headers: { cookie } })).status).toBe(401);
    expect((await fetch(url("/events"), { headers: { cookie } })).status).toBe(401);
  });

  test("lets the right token in after wrong ones, limits wrong ones per address, logs the counted ones and counts the limited ones", async () => {
    for (let i = 0; i < 5; i++) expect((await login("wrong")).status).toBe(401);
    expect((await login("wrong")).status).toBe(429);
    expect((await login()).status).toBe(204); // the right token always works
    const bearer = (token: string) =>
      fetch(url("/events"), { headers: { authorization: `Bearer ${token}` } });
    expect((await bearer("wrong")).status).toBe(429); // the same address, the same limit
    expect((await bearer(BINARY_TOKEN)).status).toBe(200);
    const warnings = server
      .logs()
      .split("\n")
      .filter((l) => l.includes("admin authentication failed"))
      .map((l) => JSON.parse(l) as { level: string; ip: string; via: string });
    // Five wrong logins logged, the fifth saying that the address is limited from now on; the
    // wrong tokens answered 429 after it are counted, not logged.
    expect(warnings.length).toBe(5);
    expect(warnings.every((w) => w.level === "warn" && w.ip === "127.0.0.1")).toBe(true);
    expect(warnings.map((w) => w.via)).toEqual(["login", "login", "login", "login", "login"]);
    expect(JSON.stringify(warnings.at(-1))).toContain("answered 429");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('trackd_admin_auth_failures_total{via="login",result="refused"} 5');
    expect(metrics).toContain('trackd_admin_auth_failures_total{via="login",result="limited"} 1');
    expect(metrics).toContain('trackd_admin_auth_failures_total{via="bearer",result="limited"} 1');
  });

  test("enforces the admin queries' bounds in the compiled binary, naming each parameter (0.4.0's binary did not)", async () => {
    for (const [path, name] of [
      ["/overview?minutes=100000000", "minutes"],
      ["/overview?minutes=1e3", "minutes"],
      ["/events?limit=100000", "limit"],
      ["/events?limit=5&limit=6", "limit"],
      ["/leads?accountId=1&limit=0", "limit"],
      ["/leads.csv?accountId=1&limit=-1", "limit"],
      ["/leads.ndjson?accountId=1&limit=10001", "limit"],
      ["/leads?accountId=1&to=-271821-04-20T00:00:00.000Z", "to"],
      ["/dead-letters?limit=0x10", "limit"],
    ] as const) {
      const res = await fetch(url(path), { headers: adminAuth });
      const body = (await res.json()) as { error: { details: { path: string }[] } };
      expect([path, res.status, body.error.details[0]?.path]).toEqual([path, 400, name]);
    }
  });

  test("checks a pasted URL with a malformed escape as a 200 that says the ID is invalid", async () => {
    const res = await fetch(url("/check?url=/collect/%25/1/event"), { headers: adminAuth });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { aid: { valid: boolean } }).aid.valid).toBe(false);
  });

  test("serves the admin page with a CSP without inline script, no framing, no sniffing, no referrer", async () => {
    const res = await fetch(`${server.url}/admin`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="app">');
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect([
      res.headers.get("x-frame-options"),
      res.headers.get("x-content-type-options"),
      res.headers.get("referrer-policy"),
    ]).toEqual(["DENY", "nosniff", "no-referrer"]);
  });
});
