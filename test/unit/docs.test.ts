/**
 * The manual (README.md and docs/) must name every error code, detail code and setting
 * there is, keep the two commands at the top of the README, and link only to files and
 * headings that exist.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { settings } from "../../server/config/load.ts";
import { DETAIL_CODES, ERRORS } from "../../server/errors.ts";

const ROOT = join(import.meta.dir, "../..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const readme = read("README.md");
const api = read("docs/http-api.md");
const configuration = read("docs/configuration.md");
const missing = (text: string, rows: string[]) => rows.filter((row) => !text.includes(row));

describe("the manual", () => {
  test("documents every error code with its status in the HTTP API", () => {
    expect(
      missing(
        api,
        Object.entries(ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.status} |`),
      ),
    ).toEqual([]);
  });

  test("documents every detail code in the HTTP API", () => {
    expect(
      missing(
        api,
        Object.keys(DETAIL_CODES).map((code) => `| \`${code}\` |`),
      ),
    ).toEqual([]);
  });

  test("documents every setting with its flag and variable in Configuration", () => {
    expect(
      missing(
        configuration,
        settings().map((s) => `| \`${s.flag}\` | \`${s.env}\` |`),
      ),
    ).toEqual([]);
  });

  test("gives the two commands at the top of the README", () => {
    const top = readme.slice(0, 1000);
    expect(top).toContain("npm install && npm start");
    expect(top).toContain("npm install && npm test");
  });

  test("gives the same Web SDK snippet in the README and in Clients (the browser test runs it)", () => {
    const snippet = (text: string) => /```html\n([\s\S]*?)```/.exec(text)?.[1];
    expect(snippet(readme)).toBeDefined();
    expect(snippet(read("docs/clients.md"))).toBe(snippet(readme)!);
  });

  test("links only to files and headings that exist", () => {
    const pages = [
      "README.md",
      "CHANGELOG.md",
      ...readdirSync(join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    for (const page of pages) {
      // Links outside code: [text](target), not in fenced blocks or inline code.
      const text = read(page)
        .replace(/```[\s\S]*?```/g, "")
        .replace(/`[^`\n]*`/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!)) continue;
        const [path, anchor] = target!.split("#");
        const file = path ? resolve(dirname(join(ROOT, page)), path) : join(ROOT, page);
        if (!existsSync(file)) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (anchor && file.endsWith(".md") && !slugs(readFileSync(file, "utf8")).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function slugs(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const [, heading] of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm))
    out.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  return out;
}
