/**
 * Builds the single binary dist/trackd with Bun.build (the CLI takes no plugins).
 * lmdb and msgpackr-extract find their native addon at run time through
 * node-gyp-build-optional-packages, which cannot work inside a compiled binary; the plugin
 * below replaces that module with a stub that requires the platform's `.node` file by
 * path, so Bun embeds it and extracts it to $TMPDIR at start.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BunPlugin } from "bun";

const root = join(import.meta.dir, "../..");
const platform = `${process.platform}-${process.arch}`;
const libc =
  process.platform === "linux" && !existsSync("/lib/ld-musl-x86_64.so.1") ? "glibc" : "musl";

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
      const owner = Object.keys(addons).find((pkg) =>
        args.importer.includes(`/node_modules/${pkg}/`),
      );
      if (!owner)
        throw new Error(
          `unexpected importer of node-gyp-build-optional-packages: ${args.importer}`,
        );
      return { path: owner, namespace: "native-addon" };
    });
    build.onLoad({ filter: /.*/, namespace: "native-addon" }, (args) => ({
      contents: `const addon = require(${JSON.stringify(addons[args.path])});\nmodule.exports = () => addon;\n`,
      loader: "js",
    }));
  },
};

const outfile = join(root, "dist", "trackd");

/** Builds dist/trackd once; false (with the logs printed) if Bun.build failed. */
async function build(): Promise<boolean> {
  const result = await Bun.build({
    // One entrypoint: the event writer's Worker runs main.ts too (see store/event-writer.ts).
    entrypoints: [join(root, "server", "main.ts")],
    compile: { outfile },
    minify: true,
    sourcemap: "linked",
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    plugins: [embedNativeAddons],
  });
  for (const log of result.logs) if (!result.success) console.error(log);
  return result.success;
}

/** Starts the binary on a scratch data directory: true once it says it is listening. */
async function starts(binary: string): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "trackd-build-check-"));
  const proc = Bun.spawn(
    [binary, "--port", "0", "--host", "127.0.0.1", "--data-dir", join(dir, "data")],
    {
      env: { ...process.env, TRACKD_ADMIN_TOKEN: "build-check" },
      stdout: "ignore",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  let logs = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stderr) {
    logs += decoder.decode(chunk, { stream: true });
    if (logs.includes('"msg":"trackd listening"')) break;
  }
  const ok = logs.includes('"msg":"trackd listening"');
  proc.kill("SIGKILL");
  await proc.exited;
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
  if (!ok) console.error(logs.split("\n").slice(-12).join("\n"));
  return ok;
}

// Bun 1.4.5's bundler now and then (about one build in twenty on our machines) emits a binary
// in which lmdb's exports are undefined, so it fails at start: each build is started once
// and rebuilt if it does not come up.
for (let attempt = 1; attempt <= 4; attempt++) {
  if (!(await build())) process.exit(1);
  if (await starts(outfile)) {
    console.log(`built ${outfile}`);
    process.exit(0);
  }
  console.error(`build ${attempt}: the binary did not start; building again`);
}
process.exit(1);
