/**
 * Builds dist/trackd-deno with `deno compile` (deno from npm): server/main-deno.ts, the event
 * writer's worker and the admin page bundle (dist/ui, built first) in one executable.
 * `deno compile` starts from Deno's runtime-only binary (denort), which it downloads from
 * dl.deno.land unless DENORT_BIN names a copy; without either it cannot build.
 */
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const run = (cmd: string[]) => Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "pipe" });

const ui = run([process.execPath, join(root, "scripts/build-ui.ts")]);
if (ui.exitCode !== 0) {
  process.stderr.write(ui.stderr);
  process.exit(1);
}
const outfile = join(root, "dist", "trackd-deno");
const compile = run([
  join(root, "node_modules/.bin/deno"),
  "compile",
  "--allow-all", // LMDB's native addon (FFI), the data directory, the network, the environment
  "--no-check", // npm test type-checks with tsc
  "--include",
  "dist/ui",
  "--output",
  outfile,
  "server/main-deno.ts",
]);
const stderr = compile.stderr.toString();
if (compile.exitCode !== 0) {
  process.stderr.write(stderr);
  if (/denort|dl\.deno\.land/.test(stderr))
    process.stderr.write(
      "\nbuild:deno: deno compile could not fetch denort (Deno's runtime-only binary) from dl.deno.land. Set DENORT_BIN to a denort binary of the same version, or build on a machine that can reach dl.deno.land.\n",
    );
  process.exit(1);
}
console.log(`built ${outfile}`);
