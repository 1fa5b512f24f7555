/**
 * docs/trackd.service as systemd reads it: `systemd-analyze verify` accepts it, its offline
 * security review rates it OK, and its own ExecStart, ExecReload and KillSignal, run against
 * the compiled binary as systemd would (STATE_DIRECTORY, JOURNAL_STREAM), start trackd, reload
 * it and stop it cleanly. (No systemd runs in the test machine's container: this is as close
 * as it gets without booting one.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, buildBinary, killAll, startBinary } from "../helpers/binary.ts";
import { waitFor } from "../helpers/ports.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir } from "../helpers/test-app.ts";

const UNIT = readFileSync(join(import.meta.dir, "../../docs/trackd.service"), "utf8");
const INSTALLED = "/usr/local/bin/trackd";
let binary: string;
let dir: string;
let unitFile: string;

/** One `Key=value` of the [Service] section. */
function directive(key: string): string {
  const line = UNIT.split("\n").find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`the unit has no ${key}=`);
  return line.slice(key.length + 1);
}

beforeAll(async () => {
  await buildBinary();
  ({ dir, binary } = await binaryInEmptyDir());
  // The unit as installed, but pointing at this build (verify checks the binary exists).
  unitFile = join(tempDir("trackd-unit-"), "trackd.service");
  writeFileSync(unitFile, UNIT.replaceAll(INSTALLED, binary));
}, 120000);
afterAll(killAll);

describe("the systemd unit", () => {
  test("passes systemd-analyze verify", () => {
    const analyze = requireCommand("systemd-analyze", "systemd");
    const run = Bun.spawnSync([analyze, "verify", unitFile]);
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
  });

  test("is rated OK by systemd-analyze security", () => {
    const analyze = requireCommand("systemd-analyze", "systemd");
    const run = Bun.spawnSync([analyze, "security", "--offline=true", "--no-pager", unitFile]);
    const m = /Overall exposure level for trackd\.service: ([\d.]+) (\w+)/.exec(
      run.stdout.toString(),
    );
    expect(m?.[2]).toBe("OK");
    expect(Number(m?.[1])).toBeLessThanOrEqual(2);
  });

  test("its ExecStart, ExecReload and KillSignal start, reload and stop trackd as systemd would", async () => {
    expect(directive("ExecStart").startsWith(`${INSTALLED} `)).toBe(true);
    const state = join(tempDir("trackd-state-"), "trackd");
    const args = directive("ExecStart")
      .split(" ")
      .slice(1)
      // biome-ignore lint/suspicious/noTemplateCurlyInString: systemd's own ${STATE_DIRECTORY}, as the unit file spells it.
      .map((a) => a.replace("${STATE_DIRECTORY}", state));
    const trackd = await startBinary(binary, dir, args, {
      STATE_DIRECTORY: state,
      JOURNAL_STREAM: "8:12345",
    });
    // journald takes each line's priority from its <N> prefix; the JSON follows unchanged.
    expect(trackd.logs()).toMatch(/^<6>\{"time":"[^"]+","level":"info","msg":"trackd listening"/m);
    expect(existsSync(join(state, "trackd.mdb"))).toBe(true);
    expect((await fetch(`${trackd.url}/healthz`)).status).toBe(200);

    expect(directive("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    trackd.proc.kill("SIGHUP");
    await waitFor("the reload", () => trackd.logs().includes("SIGHUP: nothing to reload"));
    expect((await fetch(`${trackd.url}/healthz`)).status).toBe(200);

    expect(directive("KillSignal")).toBe("SIGTERM");
    expect(await trackd.stop("SIGTERM")).toBe(0);
    expect(trackd.logs()).toContain('"msg":"stopped"');
  });
});
