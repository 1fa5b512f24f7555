/** The README is the manual: it must name every error code, detail code and setting there is. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { settings } from "../../server/config/load.ts";
import { DETAIL_CODES, ERRORS } from "../../server/errors.ts";

const readme = await Bun.file(join(import.meta.dir, "../../README.md")).text();

test("documents every error code with its status", () => {
  for (const [code, spec] of Object.entries(ERRORS)) expect(readme).toContain(`| \`${code}\` | ${spec.status} |`);
});

test("documents every detail code", () => {
  for (const code of Object.keys(DETAIL_CODES)) expect(readme).toContain(`| \`${code}\` |`);
});

test("documents every setting with its flag and variable", () => {
  for (const s of settings()) expect(readme).toContain(`| \`${s.flag}\` | \`${s.env}\` |`);
});

test("gives the two commands at the top", () => {
  const top = readme.slice(0, 800);
  expect(top).toContain("npm install && npm start");
  expect(top).toContain("npm install && npm test");
});
