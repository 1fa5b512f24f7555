/** Servers under test and the wrk runs against them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
}

export interface Target {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  proc?: ReturnType<typeof Bun.spawn>;
  port?: number;
  results: WrkResult[];
  peakRssMb?: number;
}

/** The median of a list of figures. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The binary on a free loopback port with its data in `dataDir`, plus `extra` flags. */
export const trackdCommand = (binary: string, dataDir: string, ...extra: string[]) => [
  binary,
  "--port",
  "0",
  "--host",
  "127.0.0.1",
  "--data-dir",
  dataDir,
  ...extra,
];

/** Starts a target and waits for the port it logs. */
export async function startTarget(t: Target): Promise<void> {
  const proc = Bun.spawn(t.cmd, {
    env: { ...process.env, ...t.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  t.proc = proc;
  let out = "";
  const decoder = new TextDecoder();
  for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[])
    void (async () => {
      for await (const chunk of stream) if (out.length < 100_000) out += decoder.decode(chunk);
    })();
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const m = /listening on (\d+)|"address":"[^"]*:(\d+)"/.exec(out);
    if (m) {
      t.port = Number(m[1] ?? m[2]);
      return;
    }
    await Bun.sleep(20);
  }
  throw new Error(`${t.name} did not start:\n${out}`);
}

export async function stopTarget(t: Target): Promise<void> {
  t.proc?.kill("SIGTERM");
  await t.proc?.exited;
}

/**
 * The wrk command for a target: one wrk thread (as ../shared/perf measures: on 2 cores a second
 * would take the server's), `connections`, `secs` seconds, a script of this folder.
 */
export function wrkCommand(t: Target, secs: number, connections: number, script: string): string[] {
  const url = `http://127.0.0.1:${t.port}/collect/1001/1/${script.includes("batch") ? "events" : "event"}`;
  return ["wrk", "-t1", `-c${connections}`, `-d${secs}s`, "-s", join(import.meta.dir, script), url];
}

/** The figures of wrk's output: the JSON line report.lua prints. */
export function wrkResult(stdout: string, stderr = ""): WrkResult {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`wrk failed: ${stdout}${stderr}`);
  const r = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    p50: number;
    p99: number;
    p999: number;
    errors: Record<string, number>;
  };
  return {
    rps: r.requests / (r.durationUs / 1e6),
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    p999: r.p999 / 1000,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
  };
}

/** Runs wrk against a target (blocking this process until it ends). */
export function wrk(
  t: Target,
  secs: number,
  connections: number,
  script: string,
  env: Record<string, string> = {},
): WrkResult {
  const run = Bun.spawnSync(wrkCommand(t, secs, connections, script), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  return wrkResult(run.stdout.toString(), run.stderr.toString());
}

export function peakRssMb(pid: number): number {
  return (
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024
  );
}
