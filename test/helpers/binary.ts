/** Builds dist/trackd once per test run and runs copies of it as real processes. */
import { copyFileSync, linkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "./test-app.ts";

const root = join(import.meta.dir, "../..");
/** The admin token every binary started here gets (unless a test overrides TRACKD_ADMIN_TOKEN), as a header. */
export const BINARY_TOKEN = "binary-test-token";
export const adminAuth = { authorization: `Bearer ${BINARY_TOKEN}` };

let built: Promise<string> | null = null;
const running = new Set<Subprocess>();

/** Kills every process this helper started that is still alive (for afterAll, so a failed test leaks nothing). */
export function killAll(): void {
  for (const proc of running) proc.kill("SIGKILL");
  running.clear();
}

/** Runs `bun scripts/build.ts` (once) and returns the binary's path. */
export function buildBinary(): Promise<string> {
  built ??= (async () => {
    const proc = Bun.spawn([process.execPath, join(root, "scripts/build.ts")], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    if ((await proc.exited) !== 0)
      throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
    return join(root, "dist/trackd");
  })();
  return built;
}

/** Puts the binary alone into a fresh empty directory (no node_modules anywhere near it): a hard link where the filesystem allows, else a copy. */
export async function binaryInEmptyDir(): Promise<{ dir: string; binary: string }> {
  const dir = tempDir("trackd-bin-");
  mkdirSync(join(dir, "bin"));
  const binary = join(dir, "bin", "trackd");
  const built = await buildBinary();
  try {
    linkSync(built, binary);
  } catch {
    copyFileSync(built, binary);
  }
  Bun.spawnSync(["chmod", "+x", binary]);
  return { dir, binary };
}

export interface Running {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  url: string;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts the binary (a path, or a command such as deno run) on a free port and resolves once it logs that it is listening. */
export async function startBinary(
  binary: string | string[],
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Running> {
  const proc = Bun.spawn(
    [
      ...(typeof binary === "string" ? [binary] : binary),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      ...args,
    ],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        TMPDIR: process.env.TMPDIR ?? "/tmp",
        TRACKD_ADMIN_TOKEN: BINARY_TOKEN,
        ...env,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let logs = "";
  const decoder = new TextDecoder();
  const reader = proc.stderr.getReader();
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`trackd did not start:\n${logs}`)), 15000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        logs += decoder.decode(value, { stream: true });
        const m = /"msg":"trackd listening","address":"[^"]*:(\d+)"/.exec(logs);
        if (m) {
          clearTimeout(deadline);
          resolve(Number(m[1]));
        }
      }
      clearTimeout(deadline);
      reject(new Error(`trackd exited before listening:\n${logs}`));
    })().catch(reject);
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      logs += decoder.decode(value, { stream: true });
    }
  })();
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    logs: () => logs,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** The binary, built once, alone in a fresh directory and started there with its data in `<dir>/data`. */
export async function startFreshBinary(
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Running> {
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  return startBinary(binary, dir, ["--data-dir", join(dir, "data"), ...args], env);
}

/** Runs a command to its end (a trackd command: backup, verify, a start that should fail), with a bare environment. */
export function runToEnd(command: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(command, { env: { PATH: process.env.PATH ?? "/usr/bin", ...env } });
  return {
    code: proc.exitCode,
    signal: proc.signalCode ?? null,
    out: proc.stdout.toString(),
    err: proc.stderr.toString(),
  };
}
