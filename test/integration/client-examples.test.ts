/**
 * The README's client examples, run for real against the compiled binary (Python's standard
 * library, Node, PHP), and checked to be in the README word for word.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, buildBinary, killAll, startBinary, type Running } from "../helpers/binary.ts";
import { requireCommand } from "../helpers/system-package.ts";

const dir = join(import.meta.dir, "../fixtures/clients");
const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
let server: Running;

beforeAll(async () => {
  await buildBinary();
  const { dir: home, binary } = await binaryInEmptyDir();
  server = await startBinary(binary, home, ["--data-dir", join(home, "data")]);
}, 300000);
afterAll(killAll);

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, TRACKD_URL: server.url }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text(), await proc.exited];
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

describe("client examples", () => {
  for (const [file, command, pkg] of [
    ["send-event.py", "python3", "python3"],
    ["send-event.mjs", "node", "nodejs"],
    ["send-event.php", "php", "php-cli"],
  ] as const) {
    test(`${file} stores an event`, async () => {
      const out = await run([requireCommand(command, pkg), join(dir, file)]);
      expect(out).toMatch(/204/);
    }, 300000);
  }

  test("every example is in the README as it is run here", () => {
    for (const file of ["send-event.py", "send-event.mjs", "send-event.php", "esp32.ino"]) expect(readme).toContain(readFileSync(join(dir, file), "utf8").trim());
  });
});
