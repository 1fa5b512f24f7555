/**
 * Builds the single binary dist/trackd with Bun.build (the CLI takes no plugins).
 * lmdb and msgpackr-extract find their native addon at run time through
 * node-gyp-build-optional-packages, which cannot work inside a compiled binary; the plugin
 * below replaces that module with a stub that requires the platform's `.node` file by
 * path, so Bun embeds it and extracts it to $TMPDIR at start.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BunPlugin } from "bun";

const root = join(import.meta.dir, "..");
const platform = `${process.platform}-${process.arch}`;
const libc = process.platform === "linux" && !existsSync("/lib/ld-musl-x86_64.so.1") ? "glibc" : "musl";

/** The prebuilt N-API addon shipped in a platform package, e.g. @lmdb/lmdb-linux-x64. */
function nativeAddon(pkg: string): string {
  const file = join(root, "node_modules", pkg, `node.napi.${libc}.node`);
  if (!existsSync(file)) throw new Error(`native addon not found: ${file} (run npm install)`);
  return file;
}

const addons: Record<string, string> = {
  lmdb: nativeAddon(`@lmdb/lmdb-${platform}`),
  "msgpackr-extract": nativeAddon(`@msgpackr-extract/msgpackr-extract-${platform}`),
};

const embedNativeAddons: BunPlugin = {
  name: "embed-native-addons",
  setup(build) {
    build.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (args) => {
      const owner = Object.keys(addons).find((pkg) => args.importer.includes(`/node_modules/${pkg}/`));
      if (!owner) throw new Error(`unexpected importer of node-gyp-build-optional-packages: ${args.importer}`);
      return { path: owner, namespace: "native-addon" };
    });
    build.onLoad({ filter: /.*/, namespace: "native-addon" }, (args) => ({
      contents: `const addon = require(${JSON.stringify(addons[args.path])});\nmodule.exports = () => addon;\n`,
      loader: "js",
    }));
  },
};

const outfile = join(root, "dist", "trackd");
const result = await Bun.build({
  // One entrypoint: the event writer's Worker runs main.ts too (see store/event-writer.ts).
  entrypoints: [join(root, "server", "main.ts")],
  compile: { outfile },
  minify: true,
  sourcemap: "linked",
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  plugins: [embedNativeAddons],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile}`);
