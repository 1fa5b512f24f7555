/**
 * `trackd backup` and `trackd verify` with the compiled binary: a hot copy taken while four
 * clients keep posting holds every event acknowledged before it began, verifies whole, and
 * serves as a data directory; verify finds a missing link; a live directory verifies too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  runToEnd,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { tempDir, validEvent } from "../helpers/test-app.ts";
import { linkKey } from "../../server/store/link-index.ts";

const aid = "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b";
let trackd: Running;
let binary: string;
let dataDir: string;
const copy = join(tempDir("trackd-backup-"), "nightly");
/** Events acknowledged (204) before the backup command started, and after. */
const before: string[] = [];
let during = 0;

const run = (args: string[]) => runToEnd([binary, ...args]);

beforeAll(async () => {
  await buildBinary();
  const fresh = await binaryInEmptyDir();
  binary = fresh.binary;
  dataDir = join(fresh.dir, "data");
  trackd = await startBinary(binary, fresh.dir, ["--data-dir", dataDir]);
  let backingUp = false;
  let stop = false;
  const client = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const res = await fetch(`${trackd.url}/collect/${aid}/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          validEvent({ instance_id: `${crypto.randomUUID()}-${n}-${i}`, userId: `user-${i % 50}` }),
        ),
      });
      if (res.status !== 204)
        // Seen once in CI under full-suite load (a 503): say which, with the server's last words.
        throw new Error(
          `${res.status} ${await res.text()} (backing up: ${backingUp})\n${trackd.logs().split("\n").slice(-8).join("\n")}`,
        );
      if (backingUp) during++;
      else before.push(res.headers.get("x-event-id")!);
    }
  };
  const clients = [1, 2, 3, 4].map(client);
  while (before.length < 2000) await Bun.sleep(20);
  backingUp = true; // from here on an acknowledged event may or may not be in the copy
  const backup = Bun.spawn([binary, "backup", copy, "--data-dir", dataDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await backup.exited;
  const out = await new Response(backup.stdout).text();
  const err = await new Response(backup.stderr).text();
  stop = true;
  await Promise.all(clients);
  if (code !== 0) throw new Error(`backup exited ${code}: ${out}${err}`);
  expect(out).toContain(`copied to ${join(copy, "trackd.mdb")} (compacted`);
}, 120000);
afterAll(killAll);

describe("trackd backup and verify", () => {
  test("the copy holds every event acknowledged before the backup began, and verifies whole", () => {
    expect(during).toBeGreaterThan(0); // the clients kept posting while it ran
    // The admin token comes from TRACKD_ADMIN_TOKEN here, so there is no token file to copy;
    // the keys trackers' secrets and suppressed identifiers are derived under are copied too.
    expect(readdirSync(copy).sort()).toEqual([
      "suppression.key",
      "trackd.mdb",
      "tracker-secrets.key",
    ]);
    const root = open({ path: join(copy, "trackd.mdb"), readOnly: true, maxDbs: 16 });
    const events = root.openDB<string, string>({ name: "events", encoding: "string" });
    const missing = before.filter((id) => events.get(id) === undefined);
    const count = events.getCount();
    void root.close();
    expect(missing).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(before.length);

    const verified = run(["verify", copy]);
    expect(verified.err).toBe("");
    expect(verified.out).toContain(`events: ${count} (`);
    expect(verified.out).toContain("\nOK");
    expect(verified.code).toBe(0);
  });

  test("verifies the live data directory while trackd serves", () => {
    const live = run(["verify", "--data-dir", dataDir]);
    expect(live.out).toContain("sink files: cursor ");
    expect(live.out).toContain("\nOK");
    expect(live.code).toBe(0);
  });

  test("a copy is a data directory: trackd starts on it and serves the events", async () => {
    const restored = join(tempDir("trackd-restore-"), "data");
    cpSync(copy, restored, { recursive: true });
    const again = await startBinary(binary, restored, ["--data-dir", restored]);
    const res = await fetch(`${again.url}/admin/api/events/${before[0]}`, { headers: adminAuth });
    expect(res.status).toBe(200);
    expect(await again.stop()).toBe(0);
  });

  test("verify names a link the journey would miss, and exits 1", () => {
    const damaged = join(tempDir("trackd-damaged-"), "data");
    cpSync(copy, damaged, { recursive: true });
    const root = open({ path: join(damaged, "trackd.mdb"), maxDbs: 16 });
    const events = root.openDB<string, string>({ name: "events", encoding: "string" });
    const links = root.openDB({ name: "links", keyEncoding: "binary", encoding: "string" });
    const victim = JSON.parse(events.get(before[7]!)!) as { instanceId: string };
    links.removeSync(linkKey(aid, "instance", victim.instanceId, before[7]!));
    void root.close();
    const verified = run(["verify", damaged]);
    expect(verified.out).toContain(`event ${before[7]}: its instance link is missing`);
    expect(verified.out).toContain("1 problem:");
    expect(verified.code).toBe(1);
  });

  test("refuses to back up into a directory that is not empty, or into a file", () => {
    const refused = run(["backup", copy, "--data-dir", dataDir]);
    expect(refused.err).toContain("is not empty: back up into a new or empty directory");
    expect(refused.code).toBe(1);
    const file = join(copy, "trackd.mdb");
    const intoFile = run(["backup", file, "--data-dir", dataDir]);
    expect([intoFile.code, intoFile.err]).toEqual([
      1,
      `trackd backup: cannot back up into ${file} (ENOTDIR)\n`,
    ]);
  });

  test("a file that is not LMDB's is named, not opened: verify, backup and start all say so", () => {
    const dir = tempDir("trackd-garbage-");
    const file = join(dir, "trackd.mdb");
    writeFileSync(file, Buffer.alloc(8192)); // zeros where LMDB's header should be
    const message = `${file} is not an LMDB file: not a trackd store, or damaged`;
    const verified = run(["verify", dir]);
    expect([verified.code, verified.out]).toEqual([1, expect.stringContaining(message)]);
    const backedUp = run(["backup", join(dir, "copy"), "--data-dir", dir]);
    expect([backedUp.code, backedUp.err]).toEqual([1, `trackd backup: ${message}\n`]);
    const started = run(["--data-dir", dir, "--port", "0"]);
    expect([started.code, started.err]).toEqual([1, expect.stringContaining(`trackd: ${message}`)]);
  });
});
