/**
 * npm run bench: trackd's figures, measured in one run on this machine.
 *
 *  1. HTTP: a bare Bun.serve that parses the same JSON and answers 204 (the runtime's ceiling),
 *     the one-thread lmdb-js probe (lmdb-direct.ts) durable and relaxed, the compiled binary
 *     durable and relaxed (and another build's with --compare BINARY), and trackd under Deno,
 *     under the same wrk load, interleaved so machine drift hits all of them; requests/s,
 *     latency percentiles, errors, peak RSS, ratios to the ceiling, and the goals met or not.
 *  2. The batch route: events/s with 50 events per request.
 *     CPU (--only cpu): each thread's CPU time per request, for the ceiling and for trackd
 *     durable (thread-cpu.ts).
 *  3. The flusher: a stored backlog drained into the file sink and into NATS JetStream.
 *  4. Ingest while a backlog drains, against the durable figure of (1); RSS with the backlog stored.
 *  5. Faults: repeated SIGKILL under load; every 204 is found and reaches the file sink.
 *  6. Soak: sustained load, heap and RSS sampled.
 *  8. Abuse: valid-event latency while 4 clients send the heaviest bodies the limits allow, and
 *     peak RSS while unauthenticated clients post 100 MB bodies to the admin API.
 *  7. Matching: journeys and a month's leads export with 1,000,000 events and 50,000 shoppers
 *     stored; durable ingest with and without identifier fields, interleaved (the link index's cost).
 *  9. Admin under load: valid-event latency alone, while three 10,000-lead CSV exports run,
 *     and while three are asked for and abandoned after 1 s; CPU after abandoning.
 *
 *   npm run bench -- [--rounds 3] [--seconds 10] [--connections 64] [--backlog 1000000]
 *                    [--kill-cycles 20] [--soak-seconds 300] [--shoppers 50000] [--compare BINARY]
 *                    [--only http,batch,cpu,steps,drain,ingest,faults,soak,journey,abuse,admin]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createNatsServer } from "../helpers/nats-server.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { ingestWhileDraining } from "./ingest-drain.ts";
import { stepCosts } from "./steps.ts";
import { threadCpu } from "./thread-cpu.ts";
import { natsPublishCeiling } from "./nats-ceiling.ts";
import { WINDOW } from "../../server/sinks/nats/nats-sink.ts";
import { drainRate } from "./drain.ts";
import { killCycles } from "./kill-cycles.ts";
import { journeyBench } from "./journey.ts";
import { abuse } from "./abuse.ts";
import { adminLoad } from "./admin-load.ts";
import { underIdleConnections } from "./idle-connections.ts";
import {
  median,
  peakRssMb,
  startTarget,
  stopTarget,
  type Target,
  trackdCommand,
  type WrkResult,
  wrk,
} from "./targets.ts";

const root = join(import.meta.dir, "../..");
const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    backlog: { type: "string", default: "1000000" },
    "kill-cycles": { type: "string", default: "20" },
    "soak-seconds": { type: "string", default: "300" },
    shoppers: { type: "string", default: "50000" },
    compare: { type: "string" },
    only: {
      type: "string",
      default: "http,batch,cpu,steps,drain,ingest,faults,soak,journey,abuse,admin",
    },
  },
});
const rounds = Number(opts.rounds);
const seconds = Number(opts.seconds);
const connections = Number(opts.connections);
const backlog = Number(opts.backlog);
const sections = new Set(opts.only!.split(","));
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

requireCommand("wrk", "wrk"); // installs it with apt-get when missing and root, else says how
console.log("building dist/trackd ...");
if (
  Bun.spawnSync([process.execPath, join(root, "scripts/build.ts")], {
    stdout: "inherit",
    stderr: "inherit",
  }).exitCode !== 0
)
  process.exit(1);
const binary = join(root, "dist/trackd");
const dataRoot = mkdtempSync(join(tmpdir(), "trackd-bench-"));
const env = { TRACKD_ADMIN_TOKEN: "bench" };
const trackdCmd = (name: string, ...extra: string[]) =>
  trackdCommand(binary, join(dataRoot, name), ...extra);
const report: string[] = [];

try {
  if (sections.has("http")) {
    const probe = (mode: string): Target => ({
      name: `p: one-thread probe, ${mode}`,
      cmd: [process.execPath, join(import.meta.dir, "lmdb-direct.ts")],
      env: { PORT: "0", MODE: mode, DIR: mkdtempSync(join(dataRoot, `probe-${mode}-`)) },
      results: [],
    });
    const targets: Target[] = [
      {
        name: "a: Bun.serve ceiling",
        cmd: [process.execPath, join(import.meta.dir, "ceiling.ts")],
        env: { PORT: "0" },
        results: [],
      },
      probe("durable"),
      probe("relaxed"),
      { name: "b: trackd durable", cmd: trackdCmd("durable"), env, results: [] },
      {
        name: "c: trackd relaxed",
        cmd: trackdCmd("relaxed", "--durability", "relaxed"),
        env,
        results: [],
      },
      // Another build beside this one (--compare BINARY), under the same load.
      ...(opts.compare
        ? [
            {
              name: "b': --compare durable",
              cmd: trackdCommand(opts.compare, join(dataRoot, "compare-durable")),
              env,
              results: [],
            },
            {
              name: "c': --compare relaxed",
              cmd: trackdCommand(
                opts.compare,
                join(dataRoot, "compare-relaxed"),
                "--durability",
                "relaxed",
              ),
              env,
              results: [],
            },
          ]
        : []),
      // The same server under Deno (deno run of server/main-deno.ts, deno from npm).
      {
        name: "d: trackd on Deno, durable",
        cmd: [
          join(root, "node_modules/.bin/deno"),
          "run",
          "--allow-all",
          join(root, "server/main-deno.ts"),
          ...trackdCmd("deno").slice(1),
        ],
        env,
        results: [],
      },
    ];
    try {
      for (const t of targets) await startTarget(t);
      console.log(
        `[${elapsed()}] HTTP: warming up, then ${rounds} interleaved rounds of ${seconds} s, ${connections} connections`,
      );
      for (const t of targets) wrk(t, 3, connections, "post-event.lua");
      for (let r = 0; r < rounds; r++)
        for (const t of targets) {
          const res = wrk(t, seconds, connections, "post-event.lua");
          t.results.push(res);
          console.log(
            `  round ${r + 1} ${t.name.padEnd(30)} ${res.rps.toFixed(0).padStart(7)} req/s  p99 ${res.p99.toFixed(2)} ms`,
          );
        }
      for (const t of targets) t.peakRssMb = peakRssMb(t.proc!.pid);
      const ceiling = median(targets[0]!.results.map((r) => r.rps));

      const m = (t: Target, f: (r: WrkResult) => number) => median(t.results.map(f));
      report.push(
        "| target | requests/s | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MB | vs ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
      );
      for (const t of targets)
        report.push(
          `| ${t.name} | ${m(t, (r) => r.rps).toFixed(0)} | ${m(t, (r) => r.p50).toFixed(2)} | ${m(t, (r) => r.p99).toFixed(2)} | ${m(t, (r) => r.p999).toFixed(2)} | ${t.results.reduce((a, r) => a + r.errors, 0)} | ${t.peakRssMb!.toFixed(0)} | ${(m(t, (r) => r.rps) / ceiling).toFixed(2)} |`,
        );
      const target = (prefix: string) => targets.find((t) => t.name.startsWith(prefix))!;
      const rps = (prefix: string) => m(target(prefix), (r) => r.rps);
      const durable = rps("b:") / ceiling;
      const probeDurable = rps("p: one-thread probe, durable") / ceiling;
      const p99 = m(target("b:"), (r) => r.p99);
      const goal = (met: boolean) => (met ? "met" : "NOT met");
      report.push(
        "",
        `goals: durable ${durable.toFixed(2)} of the ceiling (>= 0.35: ${goal(durable >= 0.35)}; >= the probe's ${probeDurable.toFixed(2)}: ${goal(durable >= probeDurable)}); durable ${(rps("b:") / rps("c:")).toFixed(2)} of relaxed (>= 0.9: ${goal(rps("b:") >= 0.9 * rps("c:"))}); durable p99 ${p99.toFixed(2)} ms (< 10: ${goal(p99 < 10)})`,
      );
      if (opts.compare)
        report.push(
          `this build vs --compare: durable ${(rps("b:") / rps("b':")).toFixed(2)}x, relaxed ${(rps("c:") / rps("c':")).toFixed(2)}x`,
        );

      if (sections.has("batch")) {
        const res = wrk(
          targets.find((t) => t.name.startsWith("b:"))!,
          seconds,
          16,
          "post-batch.lua",
        );
        report.push(
          "",
          `batch route, durable, 50 events per request, 16 connections: ${Math.round(res.rps * 50)} events/s (${res.rps.toFixed(0)} requests/s, p99 ${res.p99.toFixed(1)} ms, ${res.errors} errors)`,
        );
      }
    } finally {
      for (const t of targets) await stopTarget(t);
    }
  }

  if (sections.has("cpu")) {
    console.log(`[${elapsed()}] CPU time per request, thread by thread`);
    const targets: Target[] = [
      {
        name: "ceiling",
        cmd: [process.execPath, join(import.meta.dir, "ceiling.ts")],
        env: { PORT: "0" },
        results: [],
      },
      { name: "trackd durable", cmd: trackdCmd("cpu"), env, results: [] },
    ];
    report.push(
      "",
      "| target | requests/s | thread: µs of CPU per request (user + system) | total µs |",
      "|---|---:|---|---:|",
    );
    try {
      for (const t of targets) await startTarget(t);
      for (const t of targets) {
        wrk(t, 3, connections, "post-event.lua");
        const { result, threads: cpu } = threadCpu(t, seconds, connections);
        const total = cpu.reduce((sum, c) => sum + c.userUs + c.sysUs, 0);
        report.push(
          `| ${t.name} | ${result.rps.toFixed(0)} | ${cpu.map((c) => `${c.name} ${c.userUs.toFixed(1)} + ${c.sysUs.toFixed(1)}`).join("; ")} | ${total.toFixed(1)} |`,
        );
      }
    } finally {
      for (const t of targets) await stopTarget(t);
    }
  }

  if (sections.has("steps")) {
    console.log(`[${elapsed()}] each step of a collect request, in process`);
    report.push(
      "",
      "| step of a collect request (in process, medians) | µs per call |",
      "|---|---:|",
      ...(await stepCosts(rounds)).map(({ step, ns }) => `| ${step} | ${(ns / 1000).toFixed(2)} |`),
    );
  }

  if (sections.has("drain")) {
    console.log(
      `[${elapsed()}] flusher: draining ${backlog} stored events into the file sink; JetStream drain vs the client library's own ceiling, ${rounds} interleaved rounds`,
    );
    const file = await drainRate(backlog, 500);
    const nats = await createNatsServer();
    // JetStream: the sink draining a backlog (its default batch, 5000) against the client
    // library publishing the same messages with the same window and nothing else, interleaved.
    const jsEvents = Math.min(backlog, 200_000);
    const drains: number[] = [];
    const ceilings: number[] = [];
    try {
      for (let r = 0; r < rounds; r++) {
        drains.push(await drainRate(jsEvents, 5000, nats.url));
        ceilings.push(await natsPublishCeiling(nats.url, jsEvents));
        console.log(
          `  round ${r + 1}: JetStream drain ${Math.round(drains[r]!)} events/s, library ceiling ${Math.round(ceilings[r]!)} messages/s`,
        );
      }
    } finally {
      await nats.destroy();
    }
    const drain = median(drains);
    const ceiling = median(ceilings);
    report.push(
      "",
      `flusher drain of ${backlog} events into the file sink, batch 500: ${Math.round(file)} events/s`,
      `JetStream drain of ${jsEvents} events, batch 5000: ${Math.round(drain)} events/s = ${((drain / ceiling) * 100).toFixed(0)}% of the client library's own publish ceiling (${Math.round(ceiling)} messages/s, window ${WINDOW}); medians of ${rounds}`,
    );
  }

  if (sections.has("ingest")) {
    // Ingest while a sink catches up, for the file sink and JetStream, two backlog sizes.
    const nats = await createNatsServer();
    const rows: string[] = [];
    try {
      for (const kind of ["file", "nats"] as const)
        for (const size of [...new Set([Math.min(300_000, backlog), backlog])]) {
          console.log(`[${elapsed()}] ingest while ${size} events drain into the ${kind} sink`);
          const sinks =
            kind === "file"
              ? [{ kind: "file", name: "files" }]
              : [
                  {
                    kind: "nats",
                    name: "stream",
                    servers: [nats.url],
                    subject: `ingest${size}.{accountId}.{trackerId}`,
                    stream: `INGEST${size}`,
                    createStream: true,
                  },
                ];
          const r = await ingestWhileDraining({
            binary,
            workDir: join(dataRoot, `ingest-${kind}-${size}`),
            backlog: size,
            sinks,
            rounds,
            seconds,
            connections,
          });
          const base = median(r.baseline.map((x) => x.rps));
          const during = median(r.draining.map((x) => x.rps));
          const shrank = r.lag.map((l) => l.before - l.after);
          rows.push(
            `| ${kind === "file" ? "file" : "JetStream"} | ${size} | ${base.toFixed(0)} (p99 ${median(r.baseline.map((x) => x.p99)).toFixed(1)} ms) | ${during.toFixed(0)} (p99 ${median(r.draining.map((x) => x.p99)).toFixed(1)} ms) | ${((during / base) * 100).toFixed(0)}% | ${median(shrank)} in ${seconds} s | ${r.half.result.rps.toFixed(0)} req/s (${((r.half.result.rps / base) * 100).toFixed(0)}%): ${r.half.before} -> ${r.half.after} |`,
          );
        }
    } finally {
      await nats.destroy();
    }
    report.push(
      "",
      "| sink | backlog | ingest, no backlog: req/s | ingest while draining: req/s | ratio | backlog shrank by (median) | at half the load: backlog before -> after |",
      "|---|---:|---:|---:|---:|---:|---|",
      ...rows,
    );
  }

  if (sections.has("faults")) {
    console.log(`[${elapsed()}] faults: ${opts["kill-cycles"]} SIGKILL cycles under load`);
    const r = await killCycles(binary, join(dataRoot, "kill"), Number(opts["kill-cycles"]), []);
    report.push(
      "",
      `SIGKILL x${r.cycles} under load: ${r.acked} events acknowledged, ${r.missingStored} missing from the store, ${r.missingFiles} missing from the file sink after restart`,
    );
    const idle = await underIdleConnections(
      binary,
      join(dataRoot, "idle"),
      10000,
      Math.min(seconds, 10),
    );
    report.push(
      `with ${idle.opened} idle connections and 100 slowloris connections held open: ${idle.result.rps.toFixed(0)} requests/s from 64 others (${idle.result.errors} errors, p99 ${idle.result.p99.toFixed(1)} ms)`,
    );
  }

  if (sections.has("soak")) {
    const soak = Number(opts["soak-seconds"]);
    console.log(`[${elapsed()}] soak: ${soak} s of load against durable trackd`);
    const t: Target = {
      name: "soak",
      cmd: trackdCmd("soak"),
      env,
      results: [],
    };
    await startTarget(t);
    try {
      const samples: string[] = [];
      const slice = Math.max(10, Math.floor(soak / 6));
      for (let done = 0; done < soak; done += slice) {
        const res = wrk(t, slice, connections, "post-event.lua");
        const metrics = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text();
        const heap = Number(/trackd_heap_used_bytes (\d+)/.exec(metrics)![1]) / 2 ** 20;
        const anon =
          Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${t.proc!.pid}/status`, "utf8"))![1]) /
          1024;
        samples.push(
          `${done + slice}s: ${res.rps.toFixed(0)} req/s, heap ${heap.toFixed(0)} MB, anon RSS ${anon.toFixed(0)} MB`,
        );
        console.log(`  ${samples.at(-1)}`);
      }
      report.push(
        "",
        `soak, ${soak} s of load (durable, default file sink):`,
        ...samples.map((s) => `  ${s}`),
      );
    } finally {
      await stopTarget(t);
    }
  }
  if (sections.has("journey")) {
    console.log(
      `[${elapsed()}] matching: ${backlog} events with ${opts.shoppers} shoppers stored; journeys and a month's leads export`,
    );
    const j = await journeyBench(join(dataRoot, "journey"), backlog, Number(opts.shoppers));
    report.push(
      "",
      `journeys with ${j.events} events and ${j.shoppers} shoppers stored (${j.leads} leads; built in ${j.buildSeconds.toFixed(0)} s): p50 ${j.p50Ms.toFixed(2)} ms, p99 ${j.p99Ms.toFixed(2)} ms, max ${j.maxMs.toFixed(1)} ms per journey (found and serialised, in process)`,
      `leads export of a month for one account, as CSV: ${j.leads} leads in ${j.exportSeconds.toFixed(1)} s = ${Math.round(j.exportLeadsPerSecond)} leads/s, each with its journey summed up`,
      `long memory: the older ${j.memory.deleted} events deleted into ${j.memory.visits} visits (${j.memory.traces} traces): ${Math.round(j.memory.jsonBytesPerTrace)} bytes of JSON, ${Math.round(j.memory.storedBytesPerTrace)} bytes of LMDB pages (keys and indexes included) per trace`,
      `journeys reading the long memory: p50 ${j.memory.p50Ms.toFixed(2)} ms, p99 ${j.memory.p99Ms.toFixed(2)} ms (goal: p99 under 50 ms)`,
      `the month's attribution for one account (last non-direct): ${j.memory.attributionLeads} leads in ${j.memory.attributionSeconds.toFixed(2)} s with their touches kept (goal: under 1 s); ${j.memory.attributionColdSeconds.toFixed(1)} s with none kept (every journey walked)`,
      `migrating those ${j.events} events from store format 1 at start: ${j.migrationSeconds.toFixed(1)} s`,
    );
    const ids: Target[] = [
      { name: "durable, no identifiers", cmd: trackdCmd("ids-off"), env, results: [] },
      { name: "durable, 5 identifiers", cmd: trackdCmd("ids-on"), env, results: [] },
    ];
    try {
      for (const t of ids) await startTarget(t);
      const scripts = ["post-unidentified.lua", "post-identified.lua"];
      ids.forEach((t, i) => wrk(t, 3, connections, scripts[i]!));
      for (let r = 0; r < rounds; r++)
        ids.forEach((t, i) => t.results.push(wrk(t, seconds, connections, scripts[i]!)));
      const [off, on] = ids.map((t) => median(t.results.map((x) => x.rps))) as [number, number];
      const p99 = ids.map((t) => median(t.results.map((x) => x.p99)));
      report.push(
        `link index cost: durable ingest of the same event with 5 identifier fields ${on.toFixed(0)} requests/s (p99 ${p99[1]!.toFixed(1)} ms) vs the same bytes without them ${off.toFixed(0)} (p99 ${p99[0]!.toFixed(1)} ms): ${((on / off) * 100).toFixed(0)}%`,
      );
    } finally {
      for (const t of ids) await stopTarget(t);
    }
  }
  if (sections.has("abuse")) {
    console.log(
      `[${elapsed()}] abuse: valid events while 4 clients send the heaviest bodies the limits allow; 100 MB unauthenticated admin posts`,
    );
    const a = await abuse(binary, join(dataRoot, "abuse"), seconds, rounds);
    const statuses = (s: Record<string, number>) =>
      Object.entries(s)
        .map(([k, v]) => `${v} x ${k}`)
        .join(", ");
    report.push(
      "",
      `valid events (wrk -c16) alone: ${a.quiet.rps.toFixed(0)} requests/s, p99 ${a.quiet.p99.toFixed(1)} ms; while 4 clients send 64 KiB events nested to the limit, 1 MiB batches and 50,000-deep batches: ${a.attacked.rps.toFixed(0)} requests/s, p99 ${a.attacked.p99.toFixed(1)} ms (goal: under 50 ms); the attack: ${a.attackRequests} requests, ${statuses(a.attackStatuses)}`,
      `100 unauthenticated 100 MB admin posts, 4 at a time: ${statuses(a.adminStatuses)}; trackd's RSS ${a.rssBeforeMb.toFixed(0)} MB before, peak ${a.rssPeakMb.toFixed(0)} MB (goal: under 150 MB)`,
    );
  }
  if (sections.has("admin")) {
    console.log(
      `[${elapsed()}] admin under load: valid events while three 10,000-lead exports run`,
    );
    const a = await adminLoad(binary, join(dataRoot, "admin"), seconds, rounds);
    const line = (r: WrkResult) =>
      `${r.rps.toFixed(0)} requests/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
    report.push(
      "",
      `admin under load (${a.leads} leads stored; valid events with wrk -c16): alone ${line(a.alone)}`,
      `  while 3 clients export 10,000 leads as CSV, over and over: ${line(a.exporting)} (goal: p99 under 20 ms); ${a.exportsDone} exports, ${a.exportSeconds.toFixed(1)} s each`,
      `  while 3 clients ask for those exports and abandon each after 1 s: ${line(a.abandoning)}; ${a.exportsAbandoned} abandoned`,
      `  CPU in the 2 s after 3 exports were abandoned: ${a.cpuAfterAbandonSeconds.toFixed(2)} s, in 2 quiet seconds before: ${a.cpuIdleSeconds.toFixed(2)} s (scans that went on would add up to 2 s)`,
    );
  }
} finally {
  rmSync(dataRoot, { recursive: true, force: true });
}

const cpu =
  readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
console.log(
  `\nmachine: ${cpu}, ${navigator.hardwareConcurrency} cores; Bun ${Bun.version}; wrk -t1 -c${connections}, ${rounds} x ${seconds} s, medians; total ${elapsed()}\n`,
);
console.log(report.join("\n"));
