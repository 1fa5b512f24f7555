/**
 * One commit, built in two folders, reports one build ID: the ID is the bundle's hash with
 * the folder it was built in left out (scripts/build.ts), so it says which code a binary
 * carries, not where it was built.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/test-app.ts";

const ROOT = join(import.meta.dir, "../..");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** The checkout's sources copied to a fresh folder (its packages linked), built, and asked its version. */
async function buildIn(): Promise<string> {
  const dir = tempDir("trackd-repro-");
  made.push(dir);
  for (const part of ["package.json", "tsconfig.json", "bunfig.toml", "server", "ui", "scripts"])
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const build = Bun.spawn([process.execPath, "scripts/build.ts"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await build.exited) !== 0)
    throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  const version = Bun.spawnSync([join(dir, "dist", "trackd"), "--version"]);
  return version.stdout.toString().trim();
}

test("the same sources built in two folders report the same build ID", async () => {
  const [a, b] = [await buildIn(), await buildIn()];
  expect(a).toMatch(/^trackd \d+\.\d+\.\d+ \(build [0-9a-f]{12}; /);
  expect(b).toBe(a);
}, 300000);
