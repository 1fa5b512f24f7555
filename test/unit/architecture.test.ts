/**
 * docs/architecture.md is the map of the code, and this keeps it true: every folder and file
 * it names is there, and its dependency table is exactly what server/'s imports say (a
 * dependency added or dropped in the code without the page fails here, and the reverse).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = join(import.meta.dir, "../..");
const page = readFileSync(join(root, "docs/architecture.md"), "utf8");
const block = (fence: string) => new RegExp(`\`\`\`${fence}\\n([\\s\\S]*?)\`\`\``).exec(page)![1]!;

/** server/'s top-level files (without .ts) and folders. */
const unitOf = (file: string) => {
  const parts = file.split("/");
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.tsx?$/, "");
};

/** Which unit imports which, from the code (comments left out; outside server/, the top folder). */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const files = readdirSync(join(root, "server"), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => join("server", f));
  for (const file of files) {
    const code = readFileSync(join(root, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
    for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      if (!spec!.startsWith(".")) continue;
      const target = relative(root, join(root, dirname(file), spec!));
      const to = target.startsWith("server/") ? unitOf(target) : target.split("/")[0]!;
      const from = unitOf(file);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

describe("docs/architecture.md", () => {
  test("names only folders and files that are there", () => {
    const missing: string[] = [];
    let parent = "";
    for (const line of block("").split("\n")) {
      // A description's continuation is indented past the names' column.
      if (line.trim() === "" || /^\s{3,}/.test(line)) continue;
      const names = line.trimStart().split(/\s{2,}/)[0]!;
      const nested = line.startsWith("  ");
      for (const name of names.split(/,\s*/)) {
        const path = nested ? join(parent, name) : name;
        if (!existsSync(join(root, path))) missing.push(path);
        if (!nested) parent = name;
      }
    }
    expect(missing).toEqual([]);
    expect(block("").split("\n").length).toBeGreaterThan(20);
  });

  test("draws exactly the dependencies the code has", () => {
    const drawn = new Map<string, string[]>();
    for (const line of block("dependencies").trim().split("\n")) {
      const [from, to] = line.split("->").map((s) => s.trim());
      drawn.set(from!, to!.split(/,\s*/).sort());
    }
    const actual = new Map(
      [...importGraph()].map(([from, to]) => [from, [...to].sort()] as [string, string[]]),
    );
    expect(Object.fromEntries([...drawn].sort())).toEqual(Object.fromEntries([...actual].sort()));
  });
});
