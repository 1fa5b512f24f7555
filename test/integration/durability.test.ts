/**
 * The durability contract, observed on the compiled binary with strace: on a quiet durable
 * server, for each of 20 single requests, an fdatasync (or fsync, msync) of the store
 * completes after the request is read and before its 204 is sent. Relaxed mode, the control,
 * sends its 204s with no sync of the store in between (so the check can tell the two apart).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, buildBinary, killAll, startBinary } from "../helpers/binary.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir, validEvent } from "../helpers/test-app.ts";

let binary: string;
let dir: string;
let strace: string;

beforeAll(async () => {
  strace = requireCommand("strace", "strace");
  await buildBinary();
  ({ binary, dir } = await binaryInEmptyDir());
}, 300000);
afterAll(() => killAll());

const SYNC = /\b(fdatasync|fsync|msync)\(/;

/**
 * For each instance ID, in the order posted: whether a sync of the store completed between
 * the line that read its request and the line that sent its 204.
 */
function syncedBeforeAnswer(log: string, instances: string[]): boolean[] {
  const lines = log.split("\n");
  // A sync's completion: its own line if it finished at once, else its "resumed" line.
  const pending = new Map<string, boolean>(); // thread -> the unfinished sync was the store's
  const synced: number[] = [];
  lines.forEach((line, i) => {
    const thread = line.split(" ")[0]!;
    if (SYNC.test(line) && line.includes("trackd.mdb")) {
      if (line.includes("<unfinished")) pending.set(thread, true);
      else if (/= 0$/.test(line)) synced.push(i);
    } else if (/<\.\.\. (fdatasync|fsync|msync) resumed>.*= 0$/.test(line) && pending.get(thread)) {
      pending.delete(thread);
      synced.push(i);
    }
  });
  return instances.map((instance) => {
    // strace writes the data escaped: \"instance_id\":\"...\"
    const read = lines.findIndex((l) => l.includes(`instance_id\\":\\"${instance}\\"`));
    const answered = lines.findIndex((l, i) => i > read && l.includes("HTTP/1.1 204 No Content"));
    expect(read).toBeGreaterThan(-1);
    expect(answered).toBeGreaterThan(read);
    return synced.some((at) => at > read && at < answered);
  });
}

async function traced(durability: string): Promise<boolean[]> {
  const work = tempDir("trackd-strace-");
  const config = join(work, "trackd.json");
  writeFileSync(config, JSON.stringify({ sinks: [], durability })); // nothing else syncs
  const log = join(work, "strace.log");
  const trackd = await startBinary(
    [
      strace,
      "-f",
      "-yy",
      "-s",
      "4096",
      "-e",
      "trace=fdatasync,fsync,msync,read,recvfrom,recvmsg,write,writev,sendto,sendmsg",
      "-o",
      log,
      binary,
    ],
    dir,
    ["--data-dir", join(work, "data"), "--config", config],
  );
  const instances = Array.from({ length: 20 }, (_, i) => `strace-${durability}-${i}`);
  for (const instance of instances) {
    await Bun.sleep(200); // quiet: one request at a time
    const res = await fetch(`${trackd.url}/collect/1001/1/event`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify(validEvent({ instance_id: instance })),
    });
    expect(res.status).toBe(204);
  }
  // SIGTERM to trackd itself (strace's child): strace ends when it does.
  const child = Bun.spawnSync(["pgrep", "-P", String(trackd.proc.pid)])
    .stdout.toString()
    .trim();
  process.kill(Number(child.split("\n")[0]), "SIGTERM");
  await trackd.proc.exited;
  return syncedBeforeAnswer(readFileSync(log, "utf8"), instances);
}

describe("the durability contract", () => {
  test("durable: each of 20 requests is fsynced after it is read and before its 204", async () => {
    expect(await traced("durable")).toEqual(Array(20).fill(true));
  }, 120000);

  test("relaxed (the control): the 204s go without a sync in between", async () => {
    expect(await traced("relaxed")).toEqual(Array(20).fill(false));
  }, 120000);
});
