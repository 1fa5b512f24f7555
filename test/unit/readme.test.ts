/** The README is the manual: it must name every error code, detail code and setting there is. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { settings } from "../../server/config/load.ts";
import { DETAIL_CODES, ERRORS } from "../../server/errors.ts";

const readme = await Bun.file(join(import.meta.dir, "../../README.md")).text();
const missing = (rows: string[]) => rows.filter((row) => !readme.includes(row));

test("documents every error code with its status", () => {
  expect(
    missing(Object.entries(ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.status} |`)),
  ).toEqual([]);
});

test("documents every detail code", () => {
  expect(missing(Object.keys(DETAIL_CODES).map((code) => `| \`${code}\` |`))).toEqual([]);
});

test("documents every setting with its flag and variable", () => {
  expect(missing(settings().map((s) => `| \`${s.flag}\` | \`${s.env}\` |`))).toEqual([]);
});

test("gives the two commands at the top", () => {
  const top = readme.slice(0, 800);
  expect(top).toContain("npm install && npm start");
  expect(top).toContain("npm install && npm test");
});
