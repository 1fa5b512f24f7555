/**
 * The admin gate cannot be walked around. Every route the app registers is taken from its
 * router (a new route is covered without editing this file) and sent without credentials in
 * every hostile spelling (route-shapes.ts): in process, to the compiled binary, to the binary
 * over TLS, and through nginx with docs/nginx-trackd.conf. Each admin route answers 401, or
 * 400/404/405 where the spelling names no route; none answers with data, and afterwards the
 * registry and the dead letters are as they were.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { writeFileSync } from "node:fs";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { makeCertificate } from "../helpers/certificate.ts";
import { createDeliveryApp, type DeliveryApp } from "../helpers/delivery-app.ts";
import { startNginx, type Nginx } from "../helpers/nginx.ts";
import { waitFor } from "../helpers/ports.ts";
import {
  appRoutes,
  letInByShape,
  PUBLIC_ADMIN,
  REFUSED,
  shapesOf,
  type AppRoute,
} from "../helpers/route-shapes.ts";
import { ADMIN_TOKEN, tempDir, validEvent } from "../helpers/test-app.ts";
import type { Sink } from "../../server/sinks/types.ts";

const CHANGE = JSON.stringify({ name: "bypass", type: "vendor", products: ["x"] });

/** A sink that refuses every event for good: every event becomes a dead letter. */
const refusingSink: Sink = {
  name: "refusing",
  kind: "test",
  send: async () => ({ kind: "fatal", cause: "refused by the test" }),
  health: async () => ({ ok: true, detail: "" }),
  close: async () => {},
};

/** The admin routes to try: every one the router has but logging in and out. */
const gatedRoutes = (routes: AppRoute[]) =>
  routes.filter(
    (r) =>
      r.pattern.startsWith("/admin/api") &&
      (r.pattern === "/admin/api/session" || !PUBLIC_ADMIN.has(r.pattern)),
  );

let delivery: DeliveryApp;
let routes: AppRoute[];
beforeAll(async () => {
  delivery = await createDeliveryApp([refusingSink]);
  routes = gatedRoutes(appRoutes(delivery.app));
});
afterAll(async () => {
  await delivery?.destroy();
  killAll();
});

describe("the admin gate, in process", () => {
  test("the router has the admin routes this test relies on finding (so a refactor cannot empty it)", () => {
    const patterns = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
    for (const expected of [
      "GET /admin/api/registry/",
      "PUT /admin/api/registry/accounts/:id",
      "GET /admin/api/events/stream",
      "GET /admin/api/leads.csv",
      "POST /admin/api/dead-letters/replay",
    ])
      expect(patterns.has(expected)).toBe(true);
    expect(routes.length).toBeGreaterThan(25);
  });

  test("every admin route refuses every spelling of a request without credentials, and nothing changes", async () => {
    expect((await delivery.post(validEvent({ instance_id: "dead-letter" }))).status).toBe(204);
    await waitFor(
      "a dead letter",
      async () => delivery.store.delivery.deadLetters(undefined, 10).length === 1,
    );
    const before = await (await delivery.admin("/registry")).text();
    const failures = await letInByShape(
      delivery.app,
      routes,
      { "content-type": "application/json" },
      CHANGE,
    );
    expect(failures).toEqual([]);
    expect(await (await delivery.admin("/registry")).text()).toBe(before);
    expect(delivery.store.delivery.deadLetters(undefined, 10).length).toBe(1);
  }, 60000);

  test("every admin route answers 401 with nosniff and no-store to a plain request without credentials", async () => {
    for (const route of routes) {
      const res = await delivery.app.handle(
        new Request(`http://localhost${route.path}`, { method: route.method }),
      );
      expect([route.pattern, res.status]).toEqual([route.pattern, 401]);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  test("every admin route lets the token in (the gate refuses nothing it should pass)", async () => {
    for (const route of routes.filter(
      (r) => r.method === "GET" && !r.pattern.endsWith("/stream"),
    )) {
      const res = await delivery.app.handle(
        new Request(`http://localhost${route.path}`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
      );
      expect([route.pattern, res.status]).not.toEqual([route.pattern, 401]);
      await res.body?.cancel();
    }
  });

  test("refuses a Host that is not a host with 400 invalid_host, before routing", async () => {
    for (const host of ["a b", "a/b", "x@evil", "", "a:99999", "[zz]", "évil.example", "a\tb"]) {
      const res = await delivery.app.handle(
        new Request("http://localhost/admin/api/registry", { headers: { host } }),
      );
      expect([host, res.status]).toEqual([host, 400]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_host");
    }
  });

  test("routes a request with a short Host by the path it sent", async () => {
    const res = await delivery.app.handle(
      new Request("http://x/admin/api/registry", {
        headers: { host: "x", authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(res.status).toBe(200);
    const padded = await delivery.app.handle(
      new Request("http://x/xx/admin/api/registry", {
        headers: { host: "x", authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(padded.status).toBe(404);
  });
});

/** Sends one raw HTTP/1.1 request and returns its status (0 if none came within 3 s). */
function rawStatus(
  connect: () => import("node:net").Socket,
  method: string,
  target: string,
  host: string | null,
): Promise<number> {
  const body = ["PUT", "POST"].includes(method) ? CHANGE : "";
  const start =
    host === null
      ? `${method} ${target} HTTP/1.0\r\n`
      : `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n`;
  const head = `${start}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = connect();
    let out = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] ?? 0));
    };
    // A stream that was let through (the live events) never closes: its status is read at the timeout.
    const timer = setTimeout(done, 3000);
    socket.on("data", (d) => {
      out += d.toString("latin1");
    });
    socket.on("close", done);
    socket.on("error", done);
    socket.write(head + body);
  });
}

describe("the admin gate, from outside", () => {
  let plain: Running;
  let overTls: Running;
  let nginx: Nginx;
  beforeAll(async () => {
    await buildBinary();
    const { dir, binary } = await binaryInEmptyDir();
    const certs = tempDir("trackd-gate-tls-");
    const cert = makeCertificate(certs, "trackd", "trackd.example.com");
    // A webhook that refuses every event: each one becomes a dead letter to try to replay.
    const receiver = Bun.serve({ port: 0, fetch: () => new Response("no", { status: 400 }) });
    const config = join(dir, "trackd.toml");
    writeFileSync(
      config,
      `[[sinks]]\nkind = "webhook"\nname = "crm"\nurl = "http://127.0.0.1:${receiver.port}/"\n`,
    );
    plain = await startBinary(binary, dir, ["--data-dir", join(dir, "data"), "--config", config]);
    overTls = await startBinary(binary, dir, [
      "--data-dir",
      join(dir, "data-tls"),
      "--tls.cert-file",
      cert.cert,
      "--tls.key-file",
      cert.key,
    ]);
    nginx = await startNginx(plain.port);
    await waitFor("nginx", async () => {
      const status = await rawStatus(
        () => tlsConnect({ host: "127.0.0.1", port: nginx.port, rejectUnauthorized: false }),
        "GET",
        "/healthz",
        "trackd.example.com",
      );
      return status === 200;
    });
    const posted = await fetch(`${plain.url}/collect/1001/1/event`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(validEvent()),
    });
    expect(posted.status).toBe(204);
    await waitFor("a dead letter", async () => (await deadLetters()) === 1);
  }, 120000);
  afterAll(() => nginx?.stop());

  const deadLetters = async () =>
    (
      (await (
        await fetch(`${plain.url}/admin/api/dead-letters`, { headers: adminAuth })
      ).json()) as {
        deadLetters: unknown[];
      }
    ).deadLetters.length;
  /** The registry of the trackd behind a transport, read with the token. */
  const registry = async (server: Running, tls = false) =>
    (
      await fetch(`${tls ? "https" : "http"}://127.0.0.1:${server.port}/admin/api/registry`, {
        headers: adminAuth,
        tls: { rejectUnauthorized: false },
      } as RequestInit)
    ).text();

  const transports = () => ({
    binary: {
      connect: () => tcpConnect(plain.port, "127.0.0.1"),
      host: `127.0.0.1:${plain.port}`,
      registry: () => registry(plain),
    },
    "binary over TLS": {
      connect: () =>
        tlsConnect({ host: "127.0.0.1", port: overTls.port, rejectUnauthorized: false }),
      host: `127.0.0.1:${overTls.port}`,
      registry: () => registry(overTls, true),
    },
    "nginx (docs/nginx-trackd.conf)": {
      connect: () =>
        tlsConnect({
          host: "127.0.0.1",
          port: nginx.port,
          servername: "trackd.example.com",
          rejectUnauthorized: false,
        }),
      host: "trackd.example.com",
      registry: () => registry(plain),
    },
  });

  test("the 0.4.0 reproduction is refused: Host x with /xx/admin/api/registry, read and PUT", async () => {
    for (const method of ["GET", "PUT"]) {
      const path =
        method === "GET" ? "/xx/admin/api/registry" : "/xx/admin/api/registry/accounts/31338";
      const status = await rawStatus(() => tcpConnect(plain.port, "127.0.0.1"), method, path, "x");
      expect([400, 401, 404]).toContain(status);
    }
  });

  for (const name of ["binary", "binary over TLS", "nginx (docs/nginx-trackd.conf)"] as const)
    test(`${name}: every admin route refuses every spelling without credentials, and nothing changes`, async () => {
      const { connect, host, registry: registryNow } = transports()[name];
      const before = await registryNow();
      expect(before).toContain('"accounts"');
      const failures: string[] = [];
      for (const route of routes)
        for (const shape of shapesOf(route.path, host)) {
          const status = await rawStatus(connect, route.method, shape.target, shape.host);
          if (!REFUSED.includes(status))
            failures.push(`${route.method} ${route.pattern} as ${shape.name}: ${status}`);
        }
      expect(failures).toEqual([]);
      expect(await registryNow()).toBe(before);
      expect(await deadLetters()).toBe(1);
    }, 300000);
});
