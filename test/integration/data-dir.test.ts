/**
 * One data directory, one serving process, with the compiled binary: a second trackd on the
 * same directory exits 1 naming the directory and the process holding it, and the first keeps
 * serving (also after the second tried); backup and verify still read the running store, and
 * verify leaves no lock file in a backup; a store file shorter than its own header, or cut to
 * 100 bytes, is refused in one line by start, verify and backup (0.4.0 died of SIGBUS and
 * SIGSEGV); a backup into a directory it cannot write, and a data directory it cannot read,
 * are each one line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, truncateSync } from "node:fs";
import { join } from "node:path";
import {
  binaryInEmptyDir,
  buildBinary,
  killAll,
  runToEnd,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { tempDir, validEvent } from "../helpers/test-app.ts";

let trackd: Running;
let binary: string;
let dataDir: string;

const run = (args: string[], prefix: string[] = []) =>
  runToEnd([...prefix, binary, ...args], { TRACKD_ADMIN_TOKEN: "data-dir-test" });

const post = (url: string, instance: string) =>
  fetch(`${url}/collect/1001/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(validEvent({ instance_id: instance })),
  });

beforeAll(async () => {
  await buildBinary();
  const fresh = await binaryInEmptyDir();
  binary = fresh.binary;
  dataDir = join(fresh.dir, "data");
  trackd = await startBinary(binary, fresh.dir, ["--data-dir", dataDir]);
  for (let i = 0; i < 20; i++) expect((await post(trackd.url, `before-${i}`)).status).toBe(204);
}, 300000);
afterAll(() => killAll());

describe("one serving process per data directory", () => {
  test("a second trackd on the same directory exits 1 naming it and the holder; the first serves on", async () => {
    const second = run(["--data-dir", dataDir, "--port", "0"]);
    expect(second.code).toBe(1);
    expect(second.err).toBe(
      `trackd: ${dataDir} is in use by another trackd (process ${trackd.proc.pid}): stop it, or give this one another --data-dir\n`,
    );
    // The same through a different spelling of the path.
    const again = run(["--data-dir", `${dataDir}/../data/`, "--port", "0"]);
    expect(again.code).toBe(1);
    expect((await post(trackd.url, "after-second")).status).toBe(204);
    expect(trackd.proc.exitCode).toBeNull();
  });

  test("backup and verify read the running store; verify leaves no lock file in the backup", () => {
    const copy = join(tempDir("trackd-copy-"), "copy");
    const backedUp = run(["backup", copy, "--data-dir", dataDir]);
    expect(backedUp.code).toBe(0);
    const verified = run(["verify", copy]);
    expect([verified.code, verified.out]).toEqual([0, expect.stringContaining("OK")]);
    // No trackd.mdb-lock left by verify; the secrets' and suppressions' keys are copied too.
    expect(readdirSync(copy).sort()).toEqual([
      "suppression.key",
      "trackd.mdb",
      "tracker-secrets.key",
    ]);
    expect(run(["verify", dataDir]).code).toBe(0);
    expect(existsSync(join(dataDir, "trackd.mdb-lock"))).toBe(true); // the live one's stays
  });

  test("a store file shorter than its header says, or cut to 100 bytes, is one line everywhere", () => {
    for (const cut of ["half", "100 bytes"]) {
      const copy = join(tempDir("trackd-cut-"), "copy");
      expect(run(["backup", copy, "--data-dir", dataDir]).code).toBe(0);
      const file = join(copy, "trackd.mdb");
      const size = Bun.file(file).size;
      truncateSync(file, cut === "half" ? Math.floor(size / 2) : 100);
      const message =
        cut === "half"
          ? new RegExp(`${file} is \\d+ bytes but its header says \\d+: the file is truncated`)
          : new RegExp(`${file} is not an LMDB file`);
      const started = run(["--data-dir", copy, "--port", "0"]);
      expect([started.signal, started.code]).toEqual([null, 1]);
      expect(started.err).toMatch(message);
      const verified = run(["verify", copy]);
      expect([verified.signal, verified.code]).toEqual([null, 1]);
      expect(verified.out).toMatch(message);
      const backedUp = run(["backup", join(copy, "again"), "--data-dir", copy]);
      expect([backedUp.signal, backedUp.code]).toEqual([null, 1]);
      expect(backedUp.err).toMatch(message);
    }
  });

  // As root, permissions do not stop anything: these run as nobody (setpriv, util-linux).
  const root = process.getuid?.() === 0;
  test.skipIf(!root)(
    "a backup into a directory it cannot write, and a data directory it cannot read, say so in one line (start too)",
    () => {
      const shared = tempDir("trackd-perm-");
      chmodSync(shared, 0o755);
      const tool = join(shared, "trackd");
      copyFileSync(binary, tool);
      chmodSync(tool, 0o755);
      const data = join(shared, "data");
      expect(run(["backup", data, "--data-dir", dataDir]).code).toBe(0);
      chmodSync(data, 0o700); // root's, unreadable to nobody
      const readOnly = join(shared, "read-only");
      mkdirSync(readOnly, { mode: 0o755 }); // root's, empty, not writable by nobody
      const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      const savedBinary = binary;
      binary = tool;
      try {
        const backedUp = run(["backup", readOnly, "--data-dir", dataDir], asNobody);
        expect([backedUp.signal, backedUp.code]).toEqual([null, 1]);
        expect(backedUp.err).toMatch(
          /^trackd backup: (cannot read|cannot back up into) \S+ \(EACCES\)/,
        );
        const verified = run(["verify", data], asNobody);
        expect([verified.signal, verified.code]).toEqual([null, 1]);
        expect(verified.out).toContain(`cannot read ${join(data, "trackd.mdb")} (EACCES)`);
        const started = run(["--data-dir", data, "--port", "0"], asNobody);
        expect([started.signal, started.code]).toEqual([null, 1]);
        expect(started.err).toBe(
          `trackd: cannot lock ${join(data, "trackd.lock")} (EACCES): run trackd as the user that owns ${data}\n`,
        );
        const fromUnreadable = run(["backup", join(shared, "x"), "--data-dir", data], asNobody);
        expect(fromUnreadable.err).toBe(
          `trackd backup: cannot read ${join(data, "trackd.mdb")} (EACCES): run this as the user that owns it\n`,
        );
      } finally {
        binary = savedBinary;
      }
    },
  );
});
