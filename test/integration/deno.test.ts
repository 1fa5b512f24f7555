/**
 * The compatibility suite: the same service under Deno (deno from npm, `deno run` of
 * server/main-deno.ts), against real processes: the collect route's main cases, durability
 * across a restart, the file sink, the admin API, a data directory shared with the Bun binary
 * in both directions, and the `deno compile` binary from an empty directory.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { adminAuth, buildBinary, killAll, startBinary } from "../helpers/binary.ts";
import { waitFor } from "../helpers/ports.ts";
import { tempDir } from "../helpers/test-app.ts";

const root = join(import.meta.dir, "../..");
const deno = join(root, "node_modules/.bin/deno");
const denoRun = [deno, "run", "-A", join(root, "server/main-deno.ts")];
const event = (instance: string) =>
  JSON.stringify({
    action: "view",
    object: "vehicle",
    vendor: "ChatVendor",
    product: "LiveChat",
    instance_id: instance,
  });

/** Lines written by a file sink into `dir` (a line still being written is not one yet). */
function fileSinkLines(dir: string): { eventId: string; instanceId: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").slice(0, -1).filter(Boolean))
    .map((line) => JSON.parse(line));
}

async function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Response> {
  return fetch(`${url}/collect/1/1/event`, { method: "POST", headers, body });
}

/**
 * npm run build:deno: builds the admin page bundle Deno serves (dist/ui, as npm run start:deno
 * does; the tests below need it), then the binary. `deno compile` needs denort, which it downloads from dl.deno.land (or
 * takes from DENORT_BIN): on a machine that can reach neither, the compiled-binary test is
 * skipped and says why; any other build failure fails it.
 */
function buildDenoBinary(): { ok: true; binary: string } | { ok: false; reason: string } {
  const built = Bun.spawnSync([process.execPath, join(root, "scripts/build-deno.ts")], {
    cwd: root,
  });
  const stderr = built.stderr.toString();
  if (built.exitCode === 0) return { ok: true, binary: join(root, "dist/trackd-deno") };
  if (/could not fetch denort/.test(stderr))
    return { ok: false, reason: stderr.trim().split("\n").pop()! };
  throw new Error(`build:deno failed:\n${stderr}`);
}
const compiled = buildDenoBinary();
if (!compiled.ok) console.warn(`SKIPPED: the deno compile binary test. ${compiled.reason}`);

afterAll(killAll);

describe("under Deno", () => {
  test("the collect route: valid, invalid with its field list, text/plain, gzip; the admin API with its token; the page", async () => {
    const dir = tempDir("trackd-deno-");
    const server = await startBinary(denoRun, dir);
    expect(server.logs()).toContain('"runtime":"deno ');

    const ok = await post(server.url, event("deno-json"));
    expect(ok.status).toBe(204);
    const id = ok.headers.get("x-event-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const bad = await post(server.url, JSON.stringify({ action: "view", score: "high" }));
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as {
      error: { code: string; details: { path: string }[] };
    };
    expect(error.code).toBe("invalid_event");
    expect(error.details.map((d) => d.path).sort()).toEqual([
      "/instance_id",
      "/object",
      "/product",
      "/score",
      "/vendor",
    ]);

    expect(
      (await post(server.url, event("deno-text"), { "content-type": "text/plain" })).status,
    ).toBe(204);
    expect(
      (
        await post(server.url, gzipSync(event("deno-gzip")), {
          "content-type": "application/json",
          "content-encoding": "gzip",
        })
      ).status,
    ).toBe(204);

    expect((await fetch(`${server.url}/admin/api/events`)).status).toBe(401);
    const listed = (await (
      await fetch(`${server.url}/admin/api/events`, { headers: adminAuth })
    ).json()) as { events: { eventId: string; instanceId: string }[] };
    expect(listed.events.map((e) => e.instanceId).sort()).toEqual([
      "deno-gzip",
      "deno-json",
      "deno-text",
    ]);
    expect(listed.events.some((e) => e.eventId === id)).toBe(true);

    const page = await fetch(`${server.url}/admin`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${server.url}${script}`)).headers.get("content-type")).toContain(
      "javascript",
    );
    expect(await server.stop("SIGTERM")).toBe(0);
  });

  test("keeps every acknowledged event across SIGTERM and a restart, and delivers them to the file sink", async () => {
    const dir = tempDir("trackd-deno-");
    let server = await startBinary(denoRun, dir);
    const acked = await Promise.all(
      Array.from(
        { length: 40 },
        async (_, i) => (await post(server.url, event(`restart-${i}`))).headers.get("x-event-id")!,
      ),
    );
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(server.logs()).toContain('"msg":"stopped"');

    server = await startBinary(denoRun, dir);
    const stored = (await (
      await fetch(`${server.url}/admin/api/events?limit=100`, { headers: adminAuth })
    ).json()) as { events: { eventId: string }[] };
    expect(new Set(stored.events.map((e) => e.eventId))).toEqual(new Set(acked));
    await waitFor("the file sink", () => fileSinkLines(join(dir, "data", "events")).length === 40);
    expect(new Set(fileSinkLines(join(dir, "data", "events")).map((l) => l.eventId))).toEqual(
      new Set(acked),
    );
    expect(await server.stop("SIGTERM")).toBe(0);
  });

  test("shares its data directory with the Bun binary: each reads and delivers what the other stored", async () => {
    const dir = tempDir("trackd-both-");
    const bunBinary = await buildBinary();
    const config = (name: string, sinks: unknown[]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ dataDir: join(dir, "data"), sinks }));
      return ["--config", file];
    };
    const filesA = join(dir, "files-a");
    const filesB = join(dir, "files-b");

    // Bun stores three events and delivers nothing.
    let server = await startBinary(bunBinary, dir, config("none", []));
    const fromBun = await Promise.all(
      [0, 1, 2].map(
        async (i) => (await post(server.url, event(`bun-${i}`))).headers.get("x-event-id")!,
      ),
    );
    expect(await server.stop("SIGTERM")).toBe(0);

    // Deno delivers Bun's three, then stores three of its own.
    server = await startBinary(
      denoRun,
      dir,
      config("a", [{ kind: "file", name: "a", dir: filesA }]),
    );
    await waitFor("Deno delivering Bun's events", () => fileSinkLines(filesA).length === 3);
    expect(new Set(fileSinkLines(filesA).map((l) => l.eventId))).toEqual(new Set(fromBun));
    const fromDeno = await Promise.all(
      [0, 1, 2].map(
        async (i) => (await post(server.url, event(`deno-${i}`))).headers.get("x-event-id")!,
      ),
    );
    expect(await server.stop("SIGTERM")).toBe(0);

    // Bun reads all six and delivers them, Deno's included, to a new sink.
    server = await startBinary(
      bunBinary,
      dir,
      config("b", [{ kind: "file", name: "b", dir: filesB }]),
    );
    await waitFor("Bun delivering every event", () => fileSinkLines(filesB).length === 6);
    expect(new Set(fileSinkLines(filesB).map((l) => l.eventId))).toEqual(
      new Set([...fromBun, ...fromDeno]),
    );
    expect(await server.stop("SIGTERM")).toBe(0);
  });

  test.skipIf(!compiled.ok)(
    "dist/trackd-deno runs from an empty directory, stores, serves the page, and stops on SIGTERM",
    async () => {
      if (!compiled.ok) return;
      const dir = tempDir("trackd-deno-bin-");
      mkdirSync(join(dir, "bin"));
      const binary = join(dir, "bin", "trackd-deno");
      copyFileSync(compiled.binary, binary);
      Bun.spawnSync(["chmod", "+x", binary]);
      const server = await startBinary(binary, dir);
      expect((await post(server.url, event("compiled"))).status).toBe(204);
      expect((await fetch(`${server.url}/admin`)).status).toBe(200);
      const listed = (await (
        await fetch(`${server.url}/admin/api/events`, { headers: adminAuth })
      ).json()) as { events: { instanceId: string }[] };
      expect(listed.events.map((e) => e.instanceId)).toEqual(["compiled"]);
      expect(await server.stop("SIGTERM")).toBe(0);
    },
  );
});
