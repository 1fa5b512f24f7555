/**
 * Admin under load, against the compiled binary: valid-event latency (wrk -c16, post-event.lua)
 * alone, while three clients export 10,000 leads each as CSV over and over, and while three
 * clients ask for those exports and abandon each after 1 s; interleaved, medians. Also the
 * CPU the process spends in the 2 s after three exports are abandoned, against 2 quiet
 * seconds before (a scan that did not stop when its client went would keep spending it).
 */
import { readFileSync } from "node:fs";
import { openStore } from "../../server/store/open-store.ts";
import { ACCOUNT, storeShoppers } from "./journey.ts";
import {
  startTarget,
  stopTarget,
  wrkCommand,
  wrkResult,
  type Target,
  type WrkResult,
} from "./targets.ts";

export interface AdminLoadFigures {
  leads: number;
  alone: WrkResult;
  exporting: WrkResult;
  abandoning: WrkResult;
  exportsDone: number;
  exportSeconds: number;
  exportsAbandoned: number;
  cpuAfterAbandonSeconds: number;
  /** The same 2 s measured with no export at all, just before. */
  cpuIdleSeconds: number;
}

const TOKEN = "bench";
const EXPORT = `/admin/api/leads.csv?accountId=${ACCOUNT}&limit=10000`;

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

const byP99 = (rs: WrkResult[]) =>
  [...rs].sort((a, b) => a.p99 - b.p99)[Math.floor(rs.length / 2)]!;

/** wrk in a child process, without blocking this event loop (the export clients share it). */
async function wrkAsync(t: Target, secs: number): Promise<WrkResult> {
  const proc = Bun.spawn(wrkCommand(t, secs, 16, "post-event.lua"), {
    stdout: "pipe",
    stderr: "pipe",
  });
  return wrkResult(await new Response(proc.stdout).text(), await new Response(proc.stderr).text());
}

export async function adminLoad(
  binary: string,
  dataDir: string,
  seconds: number,
  rounds: number,
  shoppers = 20_000,
): Promise<AdminLoadFigures> {
  const store = openStore({ dataDir, durability: "relaxed", rejectLogSize: 10 });
  const { leadIds, orphanLeads } = await storeShoppers(store, 0, shoppers);
  await store.close();
  const t: Target = {
    name: "admin-load",
    cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    env: { TRACKD_ADMIN_TOKEN: TOKEN },
    results: [],
  };
  await startTarget(t);
  const url = `http://127.0.0.1:${t.port}${EXPORT}`;
  const headers = { authorization: `Bearer ${TOKEN}` };
  let exportsDone = 0;
  let exportMs = 0;
  let exportsAbandoned = 0;
  /** Three clients asking for the export until stopped; `abandonMs` aborts each request after that long. */
  const exporters = (abandonMs: number | null) => {
    let running = true;
    const client = async () => {
      while (running) {
        const t0 = performance.now();
        const signal = abandonMs === null ? undefined : AbortSignal.timeout(abandonMs);
        const res = await fetch(url, { headers, signal }).catch(() => null);
        const body = await res?.text().catch(() => null);
        if (res?.status === 200 && body) {
          exportsDone++;
          exportMs += performance.now() - t0;
        } else if (abandonMs !== null) exportsAbandoned++;
        else throw new Error(`export failed: ${res?.status} ${body?.slice(0, 200)}`);
      }
    };
    const clients = [client(), client(), client()];
    return async () => {
      running = false;
      await Promise.allSettled(clients);
    };
  };
  try {
    await wrkAsync(t, 3); // warm-up
    const alone: WrkResult[] = [];
    const exporting: WrkResult[] = [];
    const abandoning: WrkResult[] = [];
    for (let r = 0; r < rounds; r++) {
      alone.push(await wrkAsync(t, seconds));
      let stop = exporters(null);
      await Bun.sleep(200);
      exporting.push(await wrkAsync(t, seconds));
      await stop();
      stop = exporters(1000);
      await Bun.sleep(200);
      abandoning.push(await wrkAsync(t, seconds));
      await stop();
    }
    // The CPU of 2 quiet seconds (delivery of what wrk posted may still run), then of the 2 s
    // after three exports were abandoned after 1 s.
    await Bun.sleep(3000);
    const idle0 = cpuSeconds(t.proc!.pid);
    await Bun.sleep(2000);
    const cpuIdleSeconds = cpuSeconds(t.proc!.pid) - idle0;
    await Promise.all(
      [0, 1, 2].map(() =>
        fetch(url, { headers, signal: AbortSignal.timeout(1000) }).catch(() => null),
      ),
    );
    const cpu0 = cpuSeconds(t.proc!.pid);
    await Bun.sleep(2000);
    return {
      leads: leadIds.length + orphanLeads,
      alone: byP99(alone),
      exporting: byP99(exporting),
      abandoning: byP99(abandoning),
      exportsDone,
      exportSeconds: exportsDone > 0 ? exportMs / exportsDone / 1000 : Number.NaN,
      exportsAbandoned,
      cpuAfterAbandonSeconds: cpuSeconds(t.proc!.pid) - cpu0,
      cpuIdleSeconds,
    };
  } finally {
    await stopTarget(t);
  }
}
