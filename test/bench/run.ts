/**
 * npm run bench: in one run on this machine, the runtime's ceiling (a bare Bun.serve that
 * parses the same JSON body and answers 204) against the compiled trackd binary in durable
 * and relaxed modes, under the same wrk load, interleaved so machine drift hits all three.
 * Prints requests/s, latency percentiles, errors, peak RSS and the ratios to the ceiling.
 *
 *   npm run bench -- [--rounds 3] [--seconds 10] [--connections 64]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { drainRate } from "./drain.ts";

const root = join(import.meta.dir, "../..");
const { values: opts } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, seconds: { type: "string", default: "10" }, connections: { type: "string", default: "64" } },
});
const rounds = Number(opts.rounds);
const seconds = Number(opts.seconds);
const connections = Number(opts.connections);
const script = join(import.meta.dir, "post-event.lua");

function ensureWrk(): void {
  if (Bun.which("wrk")) return;
  if (process.getuid?.() === 0) {
    console.log("installing wrk with apt-get ...");
    Bun.spawnSync(["apt-get", "update", "-qq"], { stdout: "inherit", stderr: "inherit" });
    if (Bun.spawnSync(["apt-get", "install", "-y", "-qq", "wrk"], { stdout: "inherit", stderr: "inherit" }).exitCode === 0) return;
  }
  console.error("wrk is required: sudo apt-get install wrk");
  process.exit(1);
}

interface Target {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  proc?: ReturnType<typeof Bun.spawn>;
  port?: number;
  results: WrkResult[];
  peakRssMb?: number;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
}

async function start(t: Target): Promise<void> {
  const proc = Bun.spawn(t.cmd, { cwd: root, env: { ...process.env, ...t.env }, stdout: "pipe", stderr: "pipe" });
  t.proc = proc;
  let out = "";
  const decoder = new TextDecoder();
  for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[])
    void (async () => {
      for await (const chunk of stream) out += decoder.decode(chunk);
    })();
  const deadline = Date.now() + 15000;
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

function wrk(t: Target, secs: number): WrkResult {
  const url = `http://127.0.0.1:${t.port}/collect/1001/1/event`;
  const run = Bun.spawnSync(["wrk", "-t2", `-c${connections}`, `-d${secs}s`, "-s", script, url], { stdout: "pipe", stderr: "pipe" });
  const line = run.stdout.toString().split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`wrk failed for ${t.name}: ${run.stdout}${run.stderr}`);
  const r = JSON.parse(line) as { requests: number; durationUs: number; p50: number; p99: number; p999: number; errors: Record<string, number> };
  return { rps: r.requests / (r.durationUs / 1e6), p50: r.p50 / 1000, p99: r.p99 / 1000, p999: r.p999 / 1000, errors: Object.values(r.errors).reduce((a, b) => a + b, 0) };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

ensureWrk();
console.log("building dist/trackd ...");
if (Bun.spawnSync([process.execPath, join(root, "server/build.ts")], { stdout: "inherit", stderr: "inherit" }).exitCode !== 0) process.exit(1);

const dataRoot = mkdtempSync(join(tmpdir(), "trackd-bench-"));
const binary = join(root, "dist/trackd");
const env = { TRACKD_ADMIN_TOKEN: "bench", TRACKD_LOG_LEVEL: "warn" };
const targets: Target[] = [
  { name: "a: Bun.serve ceiling", cmd: [process.execPath, join(import.meta.dir, "ceiling.ts")], env: { PORT: "0" }, results: [] },
  { name: "b: trackd durable", cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", join(dataRoot, "durable")], env: { ...env, TRACKD_LOG_LEVEL: "info" }, results: [] },
  { name: "c: trackd relaxed", cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", join(dataRoot, "relaxed"), "--durability", "relaxed"], env: { ...env, TRACKD_LOG_LEVEL: "info" }, results: [] },
];

try {
  for (const t of targets) await start(t);
  console.log(`warming up (3 s each), then ${rounds} interleaved rounds of ${seconds} s, ${connections} connections, wrk -t2 ...`);
  for (const t of targets) wrk(t, 3);
  for (let r = 0; r < rounds; r++)
    for (const t of targets) {
      const res = wrk(t, seconds);
      t.results.push(res);
      console.log(`  round ${r + 1} ${t.name.padEnd(22)} ${res.rps.toFixed(0).padStart(7)} req/s  p99 ${res.p99.toFixed(2)} ms`);
    }
  for (const t of targets) t.peakRssMb = peakRssMb(t.proc!.pid);
} finally {
  for (const t of targets) t.proc?.kill("SIGTERM");
  await Promise.all(targets.map((t) => t.proc?.exited));
  rmSync(dataRoot, { recursive: true, force: true });
}

const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
const ceiling = median(targets[0]!.results.map((r) => r.rps));
console.log(`\nmachine: ${cpu}, ${navigator.hardwareConcurrency} cores; Bun ${Bun.version}; wrk -t2 -c${connections}, ${rounds} x ${seconds} s, medians`);
console.log("| target | requests/s | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MB | vs ceiling |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const t of targets) {
  const rps = median(t.results.map((r) => r.rps));
  const row = [t.name, rps.toFixed(0), median(t.results.map((r) => r.p50)).toFixed(2), median(t.results.map((r) => r.p99)).toFixed(2), median(t.results.map((r) => r.p999)).toFixed(2), String(t.results.reduce((a, r) => a + r.errors, 0)), t.peakRssMb!.toFixed(0), `${((rps / ceiling) * 100).toFixed(0)}%`];
  console.log(`| ${row.join(" | ")} |`);
}

console.log("\nflusher: draining 200,000 stored events into the file sink (fdatasync per batch)");
for (const batch of [500, 5000]) console.log(`| batch ${batch} | ${Math.round(await drainRate(200000, batch))} events/s |`);
