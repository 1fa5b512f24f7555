/**
 * Abuse against the compiled binary: valid-event latency (wrk, post-event.lua) with and
 * without 4 clients sending the heaviest bodies the limits allow (a 64 KiB event nested to
 * the depth limit, a 1 MiB batch, a 50,000-deep batch), interleaved; and peak RSS while
 * unauthenticated clients post 100 MB bodies to the admin API.
 */
import { readFileSync } from "node:fs";
import {
  startTarget,
  stopTarget,
  wrk,
  wrkCommand,
  wrkResult,
  type Target,
  type WrkResult,
} from "./targets.ts";

export interface AbuseFigures {
  quiet: WrkResult;
  attacked: WrkResult;
  attackRequests: number;
  attackStatuses: Record<string, number>;
  rssBeforeMb: number;
  rssPeakMb: number;
  adminPosts: number;
  adminStatuses: Record<string, number>;
}

const MAX_DEPTH = 16;

/** A valid event of about 64 KiB whose one property nests to the depth limit. */
function deepEvent(): string {
  let v: unknown = "x".repeat(1000);
  for (let d = 1; d < MAX_DEPTH; d++) v = [v, v];
  const e = {
    action: "view",
    object: "page",
    vendor: "Abuse",
    product: "Deep",
    instance_id: "abuse",
    v,
  };
  let json = JSON.stringify(e);
  while (json.length > 64 * 1024 - 100) {
    v = (v as unknown[])[0];
    json = JSON.stringify({ ...e, v });
  }
  return json;
}

/** A batch at both batch limits: 500 events in just under 1 MiB. */
const bigBatch = (): string => {
  const one = JSON.stringify({
    action: "view",
    object: "page",
    vendor: "Abuse",
    product: "Batch",
    instance_id: "abuse",
    pad: "y".repeat(1990),
  });
  return `[${Array.from({ length: Math.min(500, Math.floor((1024 * 1024 - 2) / (one.length + 1))) }, () => one).join(",")}]`;
};

const rssMb = (pid: number, field: "VmRSS" | "VmHWM") =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) /
  1024;

const target = (binary: string, dataDir: string): Target => ({
  name: "abuse",
  cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
  env: { TRACKD_ADMIN_TOKEN: "bench" },
  results: [],
});
const byP99 = (rs: WrkResult[]) =>
  [...rs].sort((a, b) => a.p99 - b.p99)[Math.floor(rs.length / 2)]!;

export async function abuse(
  binary: string,
  dataDir: string,
  seconds: number,
  rounds: number,
): Promise<AbuseFigures> {
  const t = target(binary, `${dataDir}/load`);
  await startTarget(t);
  const url = `http://127.0.0.1:${t.port}`;
  const bodies = [
    { path: "/collect/1001/1/event", body: deepEvent() },
    { path: "/collect/1001/1/events", body: bigBatch() },
    { path: "/collect/1001/1/events", body: `[${"[".repeat(50000)}${"]".repeat(50000)}]` },
  ];
  const statuses: Record<string, number> = {};
  let attackRequests = 0;
  let attacking = false;
  const attacker = async (n: number) => {
    for (let i = n; attacking; i++) {
      const { path, body } = bodies[i % bodies.length]!;
      const res = await fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }).catch(() => null);
      const key = String(res?.status ?? "error");
      statuses[key] = (statuses[key] ?? 0) + 1;
      attackRequests++;
      await res?.arrayBuffer();
    }
  };
  try {
    wrk(t, 3, 16, "post-event.lua"); // warm-up
    const quiet: WrkResult[] = [];
    const attacked: WrkResult[] = [];
    for (let r = 0; r < rounds; r++) {
      quiet.push(wrk(t, seconds, 16, "post-event.lua"));
      attacking = true;
      const attackers = [0, 1, 2, 3].map(attacker);
      await Bun.sleep(200);
      attacked.push(await wrkAsync(t, seconds)); // the attackers run on this event loop: wrk must not block it

      attacking = false;
      await Promise.all(attackers);
    }

    return {
      quiet: byP99(quiet),
      attacked: byP99(attacked),
      attackRequests,
      attackStatuses: statuses,
      ...(await adminFlood(binary, `${dataDir}/admin`)),
    };
  } finally {
    await stopTarget(t);
  }
}

/** Peak RSS of a fresh trackd while 4 clients post 100 unauthenticated 100 MB bodies to the admin API. */
async function adminFlood(
  binary: string,
  dataDir: string,
): Promise<Pick<AbuseFigures, "rssBeforeMb" | "rssPeakMb" | "adminPosts" | "adminStatuses">> {
  const t = target(binary, dataDir);
  await startTarget(t);
  try {
    const url = `http://127.0.0.1:${t.port}`;
    const rssBeforeMb = rssMb(t.proc!.pid, "VmRSS");
    const big = new Uint8Array(100 * 1024 * 1024).fill(0x7b);
    const adminStatuses: Record<string, number> = {};
    let adminPosts = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (adminPosts < 100) {
          adminPosts++;
          const res = await fetch(`${url}/admin/api/registry/accounts/1`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: big,
          }).catch(() => null);
          const key = String(res?.status ?? "error");
          adminStatuses[key] = (adminStatuses[key] ?? 0) + 1;
          await res?.arrayBuffer();
        }
      }),
    );
    return { rssBeforeMb, rssPeakMb: rssMb(t.proc!.pid, "VmHWM"), adminPosts, adminStatuses };
  } finally {
    await stopTarget(t);
  }
}

/** wrk without blocking this process's event loop (the attackers share it). */
async function wrkAsync(t: Target, secs: number): Promise<WrkResult> {
  const proc = Bun.spawn(wrkCommand(t, secs, 16, "post-event.lua"), {
    stdout: "pipe",
    stderr: "pipe",
  });
  return wrkResult(await new Response(proc.stdout).text(), await new Response(proc.stderr).text());
}
