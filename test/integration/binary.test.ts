/**
 * The real compiled binary, copied alone into an empty directory: it starts, stores events,
 * stops cleanly on SIGTERM, and keeps every acknowledged event across a restart and a SIGKILL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  startFreshBinary,
} from "../helpers/binary.ts";
import { freePort, waitFor } from "../helpers/ports.ts";

const body = (instance: string) =>
  JSON.stringify({
    action: "submit",
    object: "form",
    vendor: "ChatVendor",
    product: "LiveChat Pro",
    instance_id: instance,
  });

async function post(url: string, instance: string): Promise<string> {
  const res = await fetch(`${url}/collect/1001/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body(instance),
  });
  if (res.status !== 204) throw new Error(`status ${res.status}: ${await res.text()}`);
  return res.headers.get("x-event-id")!;
}

async function storedInstance(url: string, eventId: string): Promise<string | null> {
  const res = await fetch(`${url}/admin/api/events/${eventId}`, { headers: adminAuth });
  if (res.status !== 200) return null;
  return ((await res.json()) as { event: { instanceId: string } }).event.instanceId;
}

beforeAll(async () => {
  await buildBinary();
}, 120000);
afterAll(killAll);

describe("the compiled binary", () => {
  test("runs from an empty directory, survives SIGTERM and a restart with every acknowledged event", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    const data = join(dir, "data");
    let server = await startBinary(binary, dir, ["--data-dir", data], { TRACKD_ADMIN_TOKEN: "" });
    expect(server.logs()).toContain('"durability":"durable"');
    // Every line is JSON (standard error is not a terminal here: no plain banner), and one
    // names the new token's file, never the token.
    const lines = server.logs().trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const made = lines.map((l) => JSON.parse(l) as { msg: string; file?: string });
    const tokenFile = join(data, "admin-token");
    expect(made.filter((l) => l.msg.startsWith("admin token made")).map((l) => l.file)).toEqual([
      tokenFile,
    ]);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = (await Bun.file(tokenFile).text()).trim();

    const acked = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        acked.set(await post(server.url, `term-${i}`), `term-${i}`),
      ),
    );
    await waitFor(
      "the file sink's first file",
      () => existsSync(join(data, "events")) && readdirSync(join(data, "events")).length > 0,
    );
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(server.logs()).toContain('"msg":"stopped"');
    // Events hold client addresses: nothing trackd made is readable by other users.
    const mode = (path: string) => statSync(path).mode & 0o777;
    const files = readdirSync(join(data, "events"));
    expect(files.length).toBeGreaterThan(0);
    expect([
      mode(data),
      mode(join(data, "events")),
      mode(join(data, "trackd.mdb")),
      ...files.map((f) => mode(join(data, "events", f))),
    ]).toEqual([0o700, 0o700, 0o600, ...files.map(() => 0o600)]);

    server = await startBinary(binary, dir, ["--data-dir", data], { TRACKD_ADMIN_TOKEN: "" });
    expect(server.logs()).not.toContain("admin token made"); // once, on creation
    for (const [eventId, instance] of acked) {
      const res = await fetch(`${server.url}/admin/api/events/${eventId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { event: { instanceId: string } }).event.instanceId).toBe(
        instance,
      );
    }
    expect(await server.stop("SIGINT")).toBe(0);
  }, 60000);

  test("keeps every event that got a 204 when killed with SIGKILL under load", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const data = join(dir, "data");
    const acked = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      const server = await startBinary(binary, dir, ["--data-dir", data]);
      let stop = false;
      let sent = 0;
      const clients = Array.from({ length: 16 }, async (_, c) => {
        while (!stop) {
          const instance = `kill-${round}-${c}-${sent++}`;
          try {
            acked.set(await post(server.url, instance), instance);
          } catch {
            return; // the server died mid-request: this event was never acknowledged
          }
        }
      });
      const target = acked.size + 300;
      const deadline = Date.now() + 20000;
      while (acked.size < target && Date.now() < deadline) await Bun.sleep(5);
      server.proc.kill("SIGKILL");
      stop = true;
      await Promise.all(clients);
      await server.proc.exited;
    }
    expect(acked.size).toBeGreaterThan(900);

    const server = await startBinary(binary, dir, ["--data-dir", data]);
    const missing: string[] = [];
    for (const [eventId, instance] of acked)
      if ((await storedInstance(server.url, eventId)) !== instance) missing.push(instance);
    expect(missing).toEqual([]);
    await server.stop();
  }, 120000);

  test("finishes in-flight requests on SIGTERM: every 204 is stored, and it exits 0", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const data = join(dir, "data");
    let server = await startBinary(binary, dir, ["--data-dir", data]);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const acked = new Map<string, string>();
    let n = 0;
    const clients = Array.from({ length: 16 }, async () => {
      for (;;) {
        const instance = `drain-${n++}`;
        try {
          acked.set(await post(server.url, instance), instance);
        } catch {
          return; // refused: the server stopped accepting
        }
      }
    });
    while (acked.size < 200) await Bun.sleep(5);
    expect(await server.stop("SIGTERM")).toBe(0);
    await Promise.all(clients);

    server = await startBinary(binary, dir, ["--data-dir", data]);
    for (const [eventId, instance] of acked)
      expect(await storedInstance(server.url, eventId)).toBe(instance);
    await server.stop();
  }, 60000);

  test("over real HTTP: the client address, trusted proxies, and oversized bodies in the envelope", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const server = await startBinary(binary, dir, [
      "--data-dir",
      join(dir, "data"),
      "--trusted-proxies",
      "127.0.0.1",
      // Whole addresses, to see which one was taken (by default only the /24 is kept).
      "--pii.ip",
      "keep",
    ]);
    const send = (headers: Record<string, string>, payload: BodyInit = body("ip")) =>
      fetch(`${server.url}/collect/1001/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: payload,
      });
    const viaProxy = await send({ "x-forwarded-for": "198.51.100.7, 127.0.0.1" });
    expect(viaProxy.status).toBe(204);
    const direct = await send({});
    const ipOf = async (res: Response) =>
      (
        (await (
          await fetch(`${server.url}/admin/api/events/${res.headers.get("x-event-id")}`, {
            headers: adminAuth,
          })
        ).json()) as { event: { context: { ip: string } } }
      ).event.context.ip;
    expect(await ipOf(viaProxy)).toBe("198.51.100.7");
    expect(await ipOf(direct)).toBe("127.0.0.1");

    const big = await send({}, new Uint8Array(3 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe(
      "payload_too_large",
    );
    expect((await send({})).status).toBe(204); // and it keeps serving
    await server.stop();
  }, 60000);

  test("serves the admin page and API on their own address when admin.port is set", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const adminPort = await freePort();
    const server = await startBinary(binary, dir, [
      "--data-dir",
      join(dir, "data"),
      "--admin.port",
      String(adminPort),
    ]);
    const admin = `http://127.0.0.1:${adminPort}`;
    const eventId = await post(server.url, "split");
    expect(
      (await fetch(`${server.url}/admin/api/events/${eventId}`, { headers: adminAuth })).status,
    ).toBe(404);
    expect((await fetch(`${server.url}/admin`)).status).toBe(404);
    expect(
      (await fetch(`${admin}/admin/api/events/${eventId}`, { headers: adminAuth })).status,
    ).toBe(200);
    const page = await fetch(`${admin}/admin`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect(
      (await fetch(`${admin}/collect/1/1/event`, { method: "POST", body: body("x") })).status,
    ).toBe(404);
    expect(server.logs()).toContain(`"admin":"${admin.replace("127.0.0.1", "127.0.0.1")}/admin"`);
    expect(await server.stop()).toBe(0);
  }, 60000);

  test("refuses a port another trackd already listens on, instead of sharing it", async () => {
    const first = await startFreshBinary();
    const { dir, binary } = await binaryInEmptyDir();
    const second = Bun.spawnSync(
      [
        binary,
        "--data-dir",
        join(dir, "data"),
        "--host",
        "127.0.0.1",
        "--port",
        String(first.port),
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    );
    expect(second.exitCode).toBe(1);
    expect(second.stderr.toString()).toContain(
      `trackd: cannot listen: Failed to start server. Is port ${first.port} in use?`,
    );
    expect(await first.stop()).toBe(0);
  }, 60000);

  test("at a terminal, the first start also prints the token itself, once", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const port = await freePort();
    // util-linux's script gives trackd a real terminal as its standard error.
    const command = `${binary} --port ${port} --host 127.0.0.1 --data-dir ${join(dir, "data")}`;
    const proc = Bun.spawn(["script", "-qfec", command, "/dev/null"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "dumb" },
      stdin: "pipe",
      stdout: "pipe",
    });
    let out = "";
    const reader = proc.stdout.getReader();
    await waitFor("trackd to listen", async () => {
      const { value } = await reader.read();
      out += new TextDecoder().decode(value ?? new Uint8Array());
      return out.includes("trackd listening");
    });
    // trackd runs under script's terminal: stop it by its data directory, then script.
    Bun.spawnSync(["pkill", "-TERM", "-f", join(dir, "data")]);
    await proc.exited;
    const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    expect(out).toContain(`Admin token (shown once, kept in ${join(dir, "data", "admin-token")}):`);
    expect(out.split(token).length - 1).toBe(2); // the token, and the ready-to-run curl
    expect(out).toContain('"msg":"admin token made');
  });

  test("exits non-zero listing every configuration problem", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const proc = Bun.spawn([binary, "--port", "http", "--durability", "maybe", "--nope"], {
      cwd: dir,
      stderr: "pipe",
      stdout: "ignore",
    });
    expect(await proc.exited).toBe(2);
    const err = await new Response(proc.stderr).text();
    for (const fragment of ["--nope", "/port", "/durability"]) expect(err).toContain(fragment);

    // --version prints package.json's version; --help describes every flag.
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8")) as {
      version: string;
    };
    const version = Bun.spawnSync([binary, "--version"], { cwd: dir });
    expect(version.exitCode).toBe(0);
    // The version, the build (the bundle's hash: build.ts), the runtime and the machine.
    expect(version.stdout.toString().trim()).toMatch(
      new RegExp(
        `^trackd ${pkg.version.replaceAll(".", "\\.")} \\(build [0-9a-f]{12}; bun \\d+\\.\\d+\\.\\d+, linux-x64\\)$`,
      ),
    );
    const help = Bun.spawnSync([binary, "--help"], { cwd: dir }).stdout.toString();
    expect(help).toContain("one of durable, relaxed; default durable");

    // An allowed origin no browser would send (a path) stops it at start, naming the entry.
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({
        registry: {
          trackers: [
            {
              id: "1",
              accountId: "1",
              name: "site",
              allowedOrigins: ["https://dealer.example/vdp"],
            },
          ],
        },
      }),
    );
    const bad = Bun.spawn([binary, "--config", join(dir, "bad.json")], {
      cwd: dir,
      stderr: "pipe",
      stdout: "ignore",
    });
    expect(await bad.exited).toBe(2);
    expect(await new Response(bad.stderr).text()).toContain(
      "/registry/trackers/0/allowedOrigins/0",
    );
  }, 60000);
});
