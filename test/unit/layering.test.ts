/**
 * The dependency rules of docs/architecture.md, checked on the source: the domain and its
 * stores never import the transport or a runtime, and nothing outside server/runtime/ names
 * Bun or Deno (their specifics live behind the runtime seam).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "../..");
const sources = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => join(dir, f));

/** The code of a file without its comments (a comment may name Bun.serve to say why). */
const code = (file: string) =>
  readFileSync(join(root, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

const importsOf = (file: string) =>
  [...code(file).matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]!);

describe("layering", () => {
  test("the domain, the pipeline, the stores, the sinks and delivery never import the transport or a runtime", () => {
    const domain = [
      "events",
      "ingest",
      "store",
      "sinks",
      "registry",
      "journey",
      "delivery",
      "telemetry",
      "config",
      "auth",
    ].flatMap((d) => sources(`server/${d}`));
    expect(domain.length).toBeGreaterThan(40);
    const offences = domain.flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith("."))
        .map((spec) => relative(root, join(root, file, "..", spec)))
        .filter(
          (target) => target.startsWith("server/http/") || target.startsWith("server/runtime/"),
        )
        .map((target) => `${file} imports ${target}`),
    );
    expect(offences).toEqual([]);
  });

  test("the app and its routes never import the composition root that builds them", () => {
    const transport = ["server/app.ts", ...sources("server/http")];
    const offences = transport.flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith("."))
        .map((spec) => relative(root, join(root, file, "..", spec)))
        .filter((target) => target === "server/start.ts" || target.startsWith("server/runtime/"))
        .map((target) => `${file} imports ${target}`),
    );
    expect(offences).toEqual([]);
  });

  test("nothing outside server/runtime/ imports bun or uses Bun. or Deno.", () => {
    const outside = [...sources("server"), ...sources("ui")].filter(
      (f) => !f.startsWith("server/runtime/"),
    );
    const offences = outside.filter(
      (file) => importsOf(file).includes("bun") || /\b(Bun|Deno)\./.test(code(file)),
    );
    expect(offences).toEqual([]);
  });
});
