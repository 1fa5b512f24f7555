import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { shellQuote } from "../../ui/shell-quote.ts";
import { NAUGHTY } from "../helpers/ids.ts";

describe("shell quoting for copy-paste snippets", () => {
  test("bash reads any quoted value back as the same single word, running nothing", () => {
    const generated = fc.sample(fc.string({ unit: "binary" }), 200);
    // Shell words cannot hold NUL, so none of the values does.
    const values = [
      ...NAUGHTY,
      ...generated,
      "1'$(touch PWNED)'",
      "'; rm -rf / #",
      "a\nb",
      "$HOME",
      "`id`",
    ].filter((s) => !s.includes("\u0000"));
    const script = values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join("\n");
    const run = Bun.spawnSync(["bash", "-c", script], {
      stdout: "pipe",
      stderr: "pipe",
      cwd: "/tmp",
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString().split("\u0000").slice(0, -1)).toEqual(values);
  });
});
