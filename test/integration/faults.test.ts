/**
 * Fault injection against the compiled binary, in bounded forms (the long forms are in
 * `npm run bench`): a disk that fills up, slow and abusive clients, a webhook that is down.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
} from "../helpers/binary.ts";
import { waitFor } from "../helpers/ports.ts";
import { startReceiver } from "../helpers/receiver.ts";

const body = (instance: string) =>
  JSON.stringify({
    action: "view",
    object: "vehicle",
    vendor: "v",
    product: "p",
    instance_id: instance,
    pad: "x".repeat(2000),
  });
const post = (url: string, instance: string) =>
  fetch(`${url}/collect/1/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body(instance),
  });

beforeAll(async () => {
  await buildBinary();
}, 120000);
afterAll(killAll);

describe("a full disk", () => {
  test("answers 503 with Retry-After before the disk is full, stays up, keeps LMDB intact, and recovers when space returns", async () => {
    if (process.getuid?.() !== 0)
      throw new Error("this test mounts a small tmpfs and needs root (CI runs as root)");
    const { dir, binary } = await binaryInEmptyDir();
    const mnt = join(dir, "small-disk");
    mkdirSync(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]);
    try {
      const data = join(mnt, "data");
      // A 2 MiB free-space margin (64 MiB by default): trackd stops before LMDB meets ENOSPC.
      const args = ["--data-dir", data, "--storage-min-free-bytes", String(2 * 1024 * 1024)];
      let server = await startBinary(binary, dir, args);
      const filler = join(mnt, "filler");
      writeFileSync(filler, Buffer.alloc(2.5 * 1024 * 1024)); // leaves the store little room
      const acked: string[] = [];
      let refused: Response | null = null;
      for (let i = 0; i < 5000 && !refused; i++) {
        const res = await post(server.url, `full-${i}`);
        if (res.status === 204) acked.push(res.headers.get("x-event-id")!);
        else refused = res;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.headers.get("retry-after")).toBeTruthy();
      expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe(
        "storage_full",
      );
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200); // still up

      rmSync(filler); // space returns
      await waitFor(
        "events to be accepted again",
        async () => (await post(server.url, "after")).status === 204,
        20000,
        100,
      );
      const code = await server.stop();
      if (code !== 0) console.error(`trackd exited ${code}:\n${server.logs()}`);
      expect(code).toBe(0);

      server = await startBinary(binary, dir, args); // LMDB opens and holds every acknowledged event
      for (const id of acked)
        expect(
          (await fetch(`${server.url}/admin/api/events/${id}`, { headers: adminAuth })).status,
        ).toBe(200);
      expect(await server.stop()).toBe(0);
    } finally {
      killAll();
      execFileSync("umount", ["-l", mnt]);
    }
  }, 120000);
});

describe("slow and abusive clients", () => {
  test("slowloris connections, thousands of idle connections and oversized headers do not stop others", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const server = await startBinary(binary, dir, [
      "--data-dir",
      join(dir, "data"),
      "--idle-timeout-seconds",
      "6",
    ]);
    const sockets: Socket[] = [];
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(server.port, "127.0.0.1", () => resolve(s));
        s.on("error", reject);
      });
    // 2,000 idle connections (the bench holds 10,000) and 50 that trickle a header forever.
    for (let i = 0; i < 2000; i += 100)
      sockets.push(...(await Promise.all(Array.from({ length: 100 }, open))));
    const slow = await Promise.all(Array.from({ length: 50 }, open));
    for (const s of slow) s.write("POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const drip = setInterval(() => slow.forEach((s) => s.writable && s.write("a")), 500);
    try {
      for (let i = 0; i < 20; i++) expect((await post(server.url, `others-${i}`)).status).toBe(204);
      const big = await fetch(`${server.url}/collect/1/1/event`, {
        method: "POST",
        headers: { "x-pad": "a".repeat(64 * 1024) },
        body: body("big"),
      });
      expect(big.status).toBe(431);
      // A slowloris connection that never finishes its headers is closed by the idle timeout.
      const closed = await Promise.race([
        new Promise((r) => slow[0]!.once("close", () => r(true))),
        Bun.sleep(20000).then(() => false),
      ]);
      expect(closed).toBe(true);
      expect((await post(server.url, "still-fine")).status).toBe(204);
    } finally {
      clearInterval(drip);
      for (const s of [...sockets, ...slow]) s.destroy();
    }
    expect(await server.stop()).toBe(0);
  }, 120000);
});

describe("a webhook that is down", () => {
  test("loses nothing while it answers 503, and drains once it recovers", async () => {
    const receiver = startReceiver();
    receiver.mode = "unavailable";
    receiver.retryAfter = "1";
    const { dir, binary } = await binaryInEmptyDir();
    const config = join(dir, "c.json");
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: join(dir, "data"),
        sinks: [
          {
            kind: "webhook",
            name: "hook",
            url: receiver.url,
            delivery: { lingerMs: 0, retryInitialMs: 50, retryMaxMs: 500 },
          },
        ],
      }),
    );
    const server = await startBinary(binary, dir, ["--config", config]);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++)
      ids.push((await post(server.url, `down-${i}`)).headers.get("x-event-id")!);
    await Bun.sleep(3000); // several refused attempts
    expect(receiver.eventIds()).toEqual([]);
    const [sink] = (
      (await (await fetch(`${server.url}/admin/api/sinks`, { headers: adminAuth })).json()) as {
        sinks: { retries: number; lag: { events: number } }[];
      }
    ).sinks;
    expect(sink!.retries).toBeGreaterThan(0);
    expect(sink!.lag.events).toBe(200);
    receiver.mode = "ok";
    await waitFor(
      "the backlog to drain",
      () => new Set(receiver.eventIds()).size === 200,
      30000,
      100,
    );
    expect(new Set(receiver.eventIds())).toEqual(new Set(ids));
    expect(await server.stop()).toBe(0);
    await receiver.stop();
  }, 120000);
});

describe("a temp directory mounted noexec", () => {
  test("loads the native addons from the data directory instead, and says why; with nowhere to load them, says so", async () => {
    if (process.getuid?.() !== 0)
      throw new Error("this test mounts a noexec tmpfs and needs root (CI runs as root)");
    const { dir, binary } = await binaryInEmptyDir();
    const noexec = join(dir, "noexec-tmp");
    mkdirSync(noexec);
    execFileSync("mount", ["-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs", noexec]);
    try {
      const server = await startBinary(binary, dir, ["--data-dir", join(dir, "data")], {
        TMPDIR: noexec,
      });
      expect(server.logs()).toContain(
        '"msg":"TMPDIR does not allow executing files: native addons go to the data directory"',
      );
      expect((await post(server.url, "noexec")).status).toBe(204);
      expect(await server.stop()).toBe(0);

      // The data directory on the same noexec filesystem: a clear message, exit 1.
      const proc = Bun.spawn([binary, "--port", "0", "--data-dir", join(noexec, "data")], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: noexec },
        stderr: "pipe",
        stdout: "ignore",
      });
      expect(await proc.exited).toBe(1);
      const err = await new Response(proc.stderr).text();
      expect(err).toContain(
        `trackd: cannot load the native storage library: files in ${noexec} (TMPDIR) and ${join(noexec, "data", ".native")} cannot be executed`,
      );
    } finally {
      killAll();
      execFileSync("umount", ["-l", noexec]);
    }
  }, 60000);
});
