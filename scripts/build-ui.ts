/**
 * Builds the admin page into dist/ui for runtimes without Bun's HTML import (Deno): an
 * index.html whose script and stylesheet live under /admin/assets/, as server/runtime/deno.ts
 * serves them. (On Bun, server/runtime/bun.ts imports ui/index.html and Bun bundles it.)
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { buildSdk } from "./sdk.ts";

const root = join(import.meta.dir, "..");
const outdir = join(root, "dist", "ui");
rmSync(outdir, { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: [join(root, "ui", "index.html")],
  outdir,
  minify: true,
  publicPath: "/admin/assets/",
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
// The Web SDK beside it (runtime/deno.ts serves it as /sdk.js).
writeFileSync(join(outdir, "sdk.js"), await buildSdk());
console.log(
  `built ${outdir}: ${result.outputs.map((o) => o.path.slice(outdir.length + 1)).join(", ")}, sdk.js`,
);
