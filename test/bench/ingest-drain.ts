/**
 * Ingest while a sink catches up on a backlog (after an outage, say), against ingest without
 * one, interleaved. Each round: wrk against a warm trackd with no backlog; then a trackd on a
 * fresh copy of a data directory holding `backlog` undelivered events, warmed up for 3 s,
 * measured for `seconds`, with the backlog read before and after. Then, at half the load
 * (post-event-paced.lua holds each connection to a rate), whether the backlog shrinks. The backlog is written and synced to disk before any
 * measuring: the kernel's writeback of a just-written gigabyte otherwise lands in the first
 * round as fsync stalls.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBacklog } from "./backlog.ts";
import {
  median,
  startTarget,
  stopTarget,
  type Target,
  trackdCommand,
  type WrkResult,
  wrk,
} from "./targets.ts";

export interface IngestDrainResult {
  baseline: WrkResult[];
  draining: WrkResult[];
  /** Events waiting for the sink when each measured run began and ended. */
  lag: { before: number; after: number }[];
  /** The run at half the load: its result, and the backlog before and after it. */
  half: { result: WrkResult; before: number; after: number };
}

export interface IngestDrainOptions {
  binary: string;
  workDir: string;
  backlog: number;
  /** The sinks, as the config file lists them (one sink). */
  sinks: Record<string, unknown>[];
  rounds: number;
  seconds: number;
  connections: number;
}

async function lagOf(t: Target): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text();
  return Number(/trackd_sink_lag_events\{sink="[^"]+"\} (\d+)/.exec(text)?.[1] ?? -1);
}

export async function ingestWhileDraining(o: IngestDrainOptions): Promise<IngestDrainResult> {
  mkdirSync(o.workDir, { recursive: true });
  const config = join(o.workDir, "trackd.json");
  writeFileSync(config, JSON.stringify({ sinks: o.sinks }));
  const pristine = join(o.workDir, "pristine");
  await buildBacklog(pristine, o.backlog);
  const env = { TRACKD_ADMIN_TOKEN: "bench" };
  const cmd = (dataDir: string) => trackdCommand(o.binary, dataDir, "--config", config);
  /** A trackd on a fresh copy of the backlog, warmed up under load. */
  const withBacklog = async (connections: number): Promise<Target> => {
    const dir = join(o.workDir, "draining");
    rmSync(dir, { recursive: true, force: true });
    cpSync(pristine, dir, { recursive: true });
    Bun.spawnSync(["sync"]);
    const t: Target = { name: "draining", cmd: cmd(dir), env, results: [] };
    await startTarget(t);
    wrk(t, 3, connections, "post-event.lua");
    return t;
  };
  Bun.spawnSync(["sync"]);

  const baseline: Target = {
    name: "no backlog",
    cmd: cmd(join(o.workDir, "baseline")),
    env,
    results: [],
  };
  const draining: WrkResult[] = [];
  const lag: { before: number; after: number }[] = [];
  await startTarget(baseline);
  try {
    wrk(baseline, 3, o.connections, "post-event.lua");
    for (let r = 0; r < o.rounds; r++) {
      baseline.results.push(wrk(baseline, o.seconds, o.connections, "post-event.lua"));
      const t = await withBacklog(o.connections);
      try {
        const before = await lagOf(t);
        draining.push(wrk(t, o.seconds, o.connections, "post-event.lua"));
        lag.push({ before, after: await lagOf(t) });
      } finally {
        await stopTarget(t);
      }
      console.log(
        `  round ${r + 1}: no backlog ${baseline.results[r]!.rps.toFixed(0)} req/s (p99 ${baseline.results[r]!.p99.toFixed(1)} ms); draining ${draining[r]!.rps.toFixed(0)} req/s (p99 ${draining[r]!.p99.toFixed(1)} ms), backlog ${lag[r]!.before} -> ${lag[r]!.after}`,
      );
    }
  } finally {
    await stopTarget(baseline);
  }

  // Half of the median rate without a backlog: each connection waits what that leaves per
  // request (its own latency, about 1 ms here, makes the rate a little lower still).
  const target = median(baseline.results.map((r) => r.rps)) / 2;
  const delayMs = Math.max(0, Math.round((o.connections * 1000) / target) - 1);
  const t = await withBacklog(o.connections);
  let half: IngestDrainResult["half"];
  try {
    const before = await lagOf(t);
    const result = wrk(t, o.seconds, o.connections, "post-event-paced.lua", {
      TRACKD_DELAY_MS: String(delayMs),
    });
    half = { result, before, after: await lagOf(t) };
  } finally {
    await stopTarget(t);
  }
  rmSync(o.workDir, { recursive: true, force: true });
  return { baseline: baseline.results, draining, lag, half };
}
