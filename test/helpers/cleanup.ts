/**
 * Preloaded by bun test (bunfig.toml): removes the temp directories the tests made with
 * tempDir() once they have run, so a run leaves nothing behind in /tmp (copies of the binary,
 * stores, sink files: gigabytes over a few runs).
 */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { madeDirs } from "./test-app.ts";

afterAll(() => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
  madeDirs.clear();
});
