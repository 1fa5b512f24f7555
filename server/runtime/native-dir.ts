/**
 * Where the compiled binary's native addons (lmdb's, msgpackr's) can be loaded from. Bun
 * writes them to $TMPDIR before loading them, and on hardened servers /tmp is often mounted
 * noexec: trackd then died at start with ERR_DLOPEN_FAILED and a stack pointing elsewhere.
 * So before anything loads them, $TMPDIR is tried by running a two-line script there; if it
 * cannot run, trackd runs itself again with TMPDIR set to `<data dir>/.native` (Bun reads
 * TMPDIR once, at start, so setting it later changes nothing); if neither can, it says so.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../config/load.ts";

/** True if a file written to `dir` can be executed. */
export function canExecuteIn(dir: string): boolean {
  const probe = join(dir, `.trackd-exec-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(probe, "#!/bin/sh\nexit 0\n");
    chmodSync(probe, 0o700);
    return spawnSync(probe, { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

export type NativeDir =
  | { kind: "ready" }
  | { kind: "restart"; tmpdir: string; instead: string }
  | { kind: "none"; message: string };

/** Whether the addons can be loaded here as things are, from another TMPDIR, or not at all. */
export function nativeDir(argv: string[], env: NodeJS.ProcessEnv): NativeDir {
  const current = env.TMPDIR || tmpdir();
  if (canExecuteIn(current)) return { kind: "ready" };
  let dataDir = "./data";
  try {
    dataDir = loadConfig(argv, env).config.dataDir;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err; // start() reports configuration problems
  }
  const fallback = join(resolve(dataDir), ".native");
  if (canExecuteIn(fallback)) return { kind: "restart", tmpdir: fallback, instead: current };
  return {
    kind: "none",
    message: `cannot load the native storage library: files in ${current} (TMPDIR) and ${fallback} cannot be executed (mounted noexec?). Set TMPDIR to a directory on a filesystem that allows it.`,
  };
}

/** Runs this binary again with TMPDIR set, passing signals on; resolves with its exit code. */
export async function runWithTmpdir(tmpdirPath: string): Promise<number> {
  const child = Bun.spawn([process.execPath, ...process.argv.slice(2)], {
    env: { ...process.env, TMPDIR: tmpdirPath },
    stdio: ["inherit", "inherit", "inherit"],
  });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.on(signal, () => child.kill(signal));
  return child.exited;
}
