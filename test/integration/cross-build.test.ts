/**
 * `npm run build:all`: binaries for every server a dealership has, built here from one
 * verified bundle. What this machine can run is run: the x64 binary natively, the baseline
 * one under qemu emulating a CPU without AVX2 (Nehalem), the arm64 one under qemu-aarch64
 * with Debian's arm64 C and C++ libraries; each stores an event and serves it back. The
 * Windows and macOS binaries cannot run here: they are checked for format, CPU, the bundle's
 * hash and the embedded addons (the same checks the build makes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TARGETS } from "../../scripts/build.ts";
import { adminAuth, killAll, startBinary } from "../helpers/binary.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir, validEvent } from "../helpers/test-app.ts";

const ROOT = join(import.meta.dir, "../..");
const ARM64_LIBS = "/usr/aarch64-linux-gnu";
let out: string;
let buildLog: string;

/** How to run each Linux binary here. */
function runner(file: string): string[] {
  const path = join(out, file);
  if (file === "trackd-linux-arm64")
    return [requireCommand("qemu-aarch64-static", "qemu-user-static"), "-L", ARM64_LIBS, path];
  if (file === "trackd-linux-x64-baseline")
    return [requireCommand("qemu-x86_64-static", "qemu-user-static"), "-cpu", "Nehalem", path];
  return [path];
}

beforeAll(async () => {
  // The arm64 binary's dynamic loader, C library and (for lmdb's addon) C++ library.
  requireCommand(`${ARM64_LIBS}/lib/ld-linux-aarch64.so.1`, "libc6-arm64-cross");
  requireCommand(`${ARM64_LIBS}/lib/libstdc++.so.6`, "libstdc++6-arm64-cross");
  out = tempDir("trackd-build-all-");
  const build = Bun.spawn([process.execPath, "scripts/build.ts", "--all", "--out", out], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await build.exited;
  buildLog = (await new Response(build.stdout).text()) + (await new Response(build.stderr).text());
  if (code !== 0) throw new Error(`build:all failed:\n${buildLog}`);
}, 300000);
afterAll(killAll);

describe("npm run build:all", () => {
  test("makes five binaries, listed with their SHA-256 in SHA256SUMS", () => {
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.map((l) => l.split("  ")[1])).toEqual(TARGETS.map((t) => t.file));
    for (const line of sums) {
      const [sha, file] = line.split("  ");
      expect(
        createHash("sha256")
          .update(readFileSync(join(out, file!)))
          .digest("hex"),
      ).toBe(sha!);
    }
    expect(buildLog).toContain("trackd-linux-x64 (ran it)");
  });

  test("every binary is an executable for its machine, compiled from the one bundle", () => {
    const sha = /bundle ([0-9a-f]{64}) serves, stores, backs up and verifies/.exec(buildLog)![1]!;
    for (const target of TARGETS) {
      const bytes = readFileSync(join(out, target.file));
      expect([target.file, target.format(bytes)]).toEqual([target.file, true]);
      expect([target.file, bytes.indexOf(sha) >= 0]).toEqual([target.file, true]);
      expect([target.file, bytes.indexOf(`${target.embedRoot}native/lmdb.node`) >= 0]).toEqual([
        target.file,
        true,
      ]);
    }
    // One binary for another machine is not taken for this one's.
    const windows = readFileSync(join(out, "trackd-windows-x64.exe"));
    expect(TARGETS.find((t) => t.file === "trackd-linux-arm64")!.format(windows)).toBe(false);
  });

  test("the Linux binaries, x64, baseline on a CPU without AVX2, and arm64, report the same build", () => {
    const versions = ["trackd-linux-x64", "trackd-linux-x64-baseline", "trackd-linux-arm64"].map(
      (file) => {
        const run = Bun.spawnSync([...runner(file), "--version"]);
        return run.stdout.toString().trim() || run.stderr.toString();
      },
    );
    const build = /^trackd \d+\.\d+\.\d+ \(build ([0-9a-f]{12});/.exec(versions[0]!)?.[1];
    expect(build).toBeDefined();
    expect(versions[1]).toContain(`(build ${build}; bun `);
    expect(versions[1]).toEndWith("linux-x64)");
    expect(versions[2]).toContain(`(build ${build}; bun `);
    expect(versions[2]).toEndWith("linux-arm64)");
  }, 60000);

  for (const file of ["trackd-linux-arm64", "trackd-linux-x64-baseline"])
    test(`${file}, emulated, stores an event and serves it back`, async () => {
      const dir = tempDir("trackd-emulated-");
      const trackd = await startBinary(runner(file), dir, ["--data-dir", join(dir, "data")]);
      const posted = await fetch(
        `${trackd.url}/collect/6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b/1/event`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(validEvent({ instance_id: `on-${file}` })),
        },
      );
      expect(posted.status).toBe(204);
      const read = await fetch(
        `${trackd.url}/admin/api/events/${posted.headers.get("x-event-id")}`,
        {
          headers: adminAuth,
        },
      );
      expect(((await read.json()) as { event: { instanceId: string } }).event.instanceId).toBe(
        `on-${file}`,
      );
      expect(await trackd.stop()).toBe(0);
    }, 60000);
});
