/**
 * Every shell example in README.md and docs/ runs as written against the compiled binary,
 * or says why it is not run here in its fence (```sh not run by the docs test: <why>); every
 * config example is a valid config file; every collect URL names the snippet's account. (The
 * client code examples are run by client-examples.test.ts.)
 *
 * The binary runs from an empty folder with its data in ./data (where the README's
 * `$(cat data/admin-token)` looks), on a free port: the examples' http://localhost:8080 is
 * that port. `trackd` is on the PATH; TRACKD_ADMIN_TOKEN, TRACKD_URL and TRACKD are set as
 * the docs ask the reader to. The operations guide's paths (/var/lib/trackd, /srv/backup)
 * are this folder's. A block passes if it exits 0, no response in its output is a 4xx or 5xx,
 * and no JSON error envelope is printed; a `$ command` transcript must also print what the
 * docs show, digits and hex aside.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../server/config/load.ts";
import {
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";

const ROOT = join(import.meta.dir, "../..");
const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const NOT_RUN = "not run by the docs test:";

interface Example {
  page: string;
  line: number;
  info: string;
  code: string;
}

/** Every ```sh block of every page, in order. */
function examples(): Example[] {
  const out: Example[] = [];
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), "utf8");
    for (const m of text.matchAll(/^```sh([^\n]*)\n([\s\S]*?)^```$/gm))
      out.push({
        page,
        line: text.slice(0, m.index).split("\n").length,
        info: m[1]!.trim(),
        code: m[2]!,
      });
  }
  return out;
}

let trackd: Running;
let dir = "";
let bin = "";
let token = "";

beforeAll(async () => {
  await buildBinary();
  let binary: string;
  ({ dir, binary } = await binaryInEmptyDir());
  bin = join(dir, "bin");
  trackd = await startBinary(binary, dir, ["--data-dir", join(dir, "data")], {
    TRACKD_ADMIN_TOKEN: "", // made in data/admin-token, as on a first start
  });
  token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  mkdirSync(join(dir, "srv"));
  symlinkSync(join(dir, "data"), join(dir, "var-lib-trackd"));
}, 120000);
afterAll(killAll);

/** The block as this machine runs it: the examples' address, paths and names mapped to ours. */
function localized(code: string): string {
  return code
    .replaceAll("http://localhost:8080", trackd.url)
    .replaceAll("/var/lib/trackd", join(dir, "var-lib-trackd"))
    .replaceAll("/srv/backup", join(dir, "srv"));
}

/** Runs a `$ command` transcript: each command, then the lines the docs show after it. */
function transcript(code: string): { commands: string; expected: string[] } {
  const lines = code.trimEnd().split("\n");
  return {
    commands: lines
      .filter((l) => l.startsWith("$ "))
      .map((l) => l.slice(2))
      .join("\n"),
    expected: lines.filter((l) => !l.startsWith("$ ")),
  };
}

/** Digits and hex runs as one shape, so a version or build ID shown in the docs still matches. */
const shape = (line: string) => line.replace(/[0-9a-f]{6,}/g, "<hex>").replace(/\d+/g, "<n>");

describe("the docs' shell examples", () => {
  const all = examples();

  test("every example is run here, or its fence says why not", () => {
    const unsaid = all.filter((e) => e.info !== "" && !e.info.startsWith(NOT_RUN));
    expect(unsaid.map((e) => `${e.page}:${e.line} ${e.info}`)).toEqual([]);
    for (const e of all.filter((x) => x.info.startsWith(NOT_RUN)))
      expect(e.info.slice(NOT_RUN.length).trim().length).toBeGreaterThan(20);
    expect(all.filter((e) => e.info === "").length).toBeGreaterThanOrEqual(8);
  });

  test("every config example (a ```toml block) is a valid config file", () => {
    const problems: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(ROOT, page), "utf8");
      for (const m of text.matchAll(/^```toml\n([\s\S]*?)^```$/gm)) {
        const file = join(dir, `example-${problems.length}-${m.index}.toml`);
        writeFileSync(file, m[1]!);
        try {
          loadConfig(["--config", file], {});
        } catch (err) {
          problems.push(`${page}: ${(err as Error).message}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("every example posts to the account the Web SDK snippet uses", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const aid = /trackd\('init', \{[^}]*aid: '([^']+)'/.exec(readme)![1]!;
    const elsewhere = PAGES.flatMap((page) =>
      [...readFileSync(join(ROOT, page), "utf8").matchAll(/\/collect\/([^/{}\s"'`]+)\//g)]
        .filter((m) => m[1] !== aid)
        .map((m) => `${page}: ${m[0]}`),
    );
    expect(elsewhere).toEqual([]);
  });

  for (const e of all.filter((x) => x.info === ""))
    test(`${e.page}:${e.line} runs as written`, () => {
      const { commands, expected } = e.code.trimStart().startsWith("$ ")
        ? transcript(e.code)
        : { commands: e.code, expected: null };
      const run = Bun.spawnSync(["bash", "-e", "-o", "pipefail", "-c", localized(commands)], {
        cwd: dir,
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          HOME: dir,
          TRACKD_ADMIN_TOKEN: token,
          TRACKD_URL: trackd.url,
          TRACKD: trackd.url,
        },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 30000,
      });
      const out = run.stdout.toString();
      const said = `${out}${run.stderr.toString()}`;
      expect([run.exitCode, said]).toEqual([0, said]);
      expect(said).not.toMatch(/^HTTP\/[\d.]+ [45]\d\d/m);
      expect(said).not.toContain('{"error":{');
      if (expected) expect(out.trimEnd().split("\n").map(shape)).toEqual(expected.map(shape));
    });
});
