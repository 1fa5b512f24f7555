/**
 * The long form of the SIGKILL test: start the binary, post from 8 clients, kill -9 it at a
 * random moment, again and again; then restart once and check that every event that got a
 * 204 is stored and reaches the file sink.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startTarget, stopTarget, type Target } from "./targets.ts";

export async function killCycles(
  binary: string,
  dataDir: string,
  cycles: number,
  extraArgs: string[] = [],
): Promise<{ cycles: number; acked: number; missingStored: number; missingFiles: number }> {
  const acked = new Set<string>();
  const env = { TRACKD_ADMIN_TOKEN: "bench" };
  for (let c = 0; c < cycles; c++) {
    const t: Target = {
      name: `kill ${c}`,
      cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, ...extraArgs],
      env,
      results: [],
    };
    await startTarget(t);
    let stop = false;
    let n = 0;
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const res = await fetch(`http://127.0.0.1:${t.port}/collect/1001/1/event`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              action: "view",
              object: "vehicle",
              vendor: "v",
              product: "p",
              instance_id: `kill-${c}-${n++}`,
            }),
          });
          if (res.status === 204) acked.add(res.headers.get("x-event-id")!);
        } catch {
          return;
        }
      }
    });
    await Bun.sleep(300 + Math.random() * 1200);
    t.proc!.kill("SIGKILL");
    stop = true;
    await Promise.all(clients);
    await t.proc!.exited;
  }
  const t: Target = {
    name: "after",
    cmd: [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    env,
    results: [],
  };
  await startTarget(t);
  let missingStored = 0;
  for (const id of acked)
    if (
      (
        await fetch(`http://127.0.0.1:${t.port}/admin/api/events/${id}`, {
          headers: { authorization: "Bearer bench" },
        })
      ).status !== 200
    )
      missingStored++;
  const lag = async () =>
    Number(
      /trackd_sink_lag_events\{sink="files"\} (\d+)/.exec(
        await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text(),
      )?.[1] ?? 1,
    );
  while ((await lag()) > 0) await Bun.sleep(200);
  const inFiles = new Set<string>();
  for (const f of readdirSync(join(dataDir, "events")))
    for (const line of readFileSync(join(dataDir, "events", f), "utf8").split("\n"))
      if (line) inFiles.add((JSON.parse(line) as { eventId: string }).eventId);
  const missingFiles = [...acked].filter((id) => !inFiles.has(id)).length;
  await stopTarget(t);
  return { cycles, acked: acked.size, missingStored, missingFiles };
}
