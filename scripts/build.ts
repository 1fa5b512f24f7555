/**
 * Builds the single binary, for this machine (`npm run build`: dist/trackd) or for every
 * server a dealership has (`npm run build:all`: dist/trackd-<target>[.exe] and
 * dist/SHA256SUMS), offline once npm's cache has the packages. `--out DIR` writes elsewhere.
 *
 * Two steps, so that every binary carries code that was run before it was compiled:
 *
 * 1. Bundle server/main.ts into one file, dist/.build/trackd.js, with the native addons left
 *    outside it (`./native/lmdb.node`) and the admin page's HTML import left for step 2. Its
 *    first line records the SHA-256 of the rest (`trackd --version` prints it). The bundle is
 *    run here with this machine's addons: it must serve, store an event and read it back, and
 *    back up and verify its data directory; one that does not is bundled again. (Bundles
 *    once left lmdb's exports undefined in some modules, `X.open is not a function`: the
 *    plugin below named its stand-in module "lmdb", which the bundler now and then took for
 *    the package. The run stays as the guard.)
 * 2. Compile that same file for each target with the target's Bun runtime and addons from npm
 *    (@oven/bun-<target>, @lmdb/lmdb-<platform>). The file has no packages left to bundle,
 *    only the addons and the page. Binaries this machine can run (linux-x64 and the baseline
 *    build) are started; the rest are checked structurally (test/integration/cross-build.test.ts
 *    runs the arm64 one under qemu): executable format and CPU, the bundle's hash, the addons.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BunPlugin } from "bun";
import { buildSdk } from "./sdk.ts";

const root = join(import.meta.dir, "..");
/** Where the binaries go: dist/, or the folder after --out. */
const outAt = process.argv.indexOf("--out");
const dist = outAt > 0 ? resolve(process.argv[outAt + 1]!) : join(root, "dist");
const work = join(dist, ".build");
const packages = join(root, "node_modules", ".cache", "trackd-targets");

interface Target {
  /** Bun's --target. */
  bun: Bun.Build.CompileTarget;
  /** The file in dist/. */
  file: string;
  /** npm package of Bun's runtime for it; none for this machine's own. */
  runtime: string | null;
  /** os-arch in the native addon packages' names. */
  platform: string;
  /** What `file` says the executable is: the check that it was built for the right machine. */
  format: (bytes: Buffer) => boolean;
  /** Where a compiled binary keeps its embedded files. */
  embedRoot: string;
}

const elf = (machine: number) => (b: Buffer) =>
  b.readUInt32BE(0) === 0x7f454c46 && b[4] === 2 && b.readUInt16LE(18) === machine;
const pe = (b: Buffer) => {
  if (b.toString("latin1", 0, 2) !== "MZ") return false;
  const at = b.readUInt32LE(0x3c);
  return b.toString("latin1", at, at + 4) === "PE\0\0" && b.readUInt16LE(at + 4) === 0x8664;
};
const machO = (b: Buffer) => b.readUInt32LE(0) === 0xfeedfacf && b.readUInt32LE(4) === 0x0100000c;

export const TARGETS: Target[] = [
  {
    bun: "bun-linux-x64",
    file: "trackd-linux-x64",
    runtime: null,
    platform: "linux-x64",
    format: elf(62),
    embedRoot: "/$bunfs/root/",
  },
  {
    bun: "bun-linux-x64-baseline",
    file: "trackd-linux-x64-baseline",
    runtime: "@oven/bun-linux-x64-baseline",
    platform: "linux-x64",
    format: elf(62),
    embedRoot: "/$bunfs/root/",
  },
  {
    bun: "bun-linux-arm64",
    file: "trackd-linux-arm64",
    runtime: "@oven/bun-linux-aarch64",
    platform: "linux-arm64",
    format: elf(183),
    embedRoot: "/$bunfs/root/",
  },
  {
    bun: "bun-windows-x64",
    file: "trackd-windows-x64.exe",
    runtime: "@oven/bun-windows-x64",
    platform: "win32-x64",
    format: pe,
    embedRoot: "B:/~BUN/root/",
  },
  {
    bun: "bun-darwin-arm64",
    file: "trackd-darwin-arm64",
    runtime: "@oven/bun-darwin-aarch64",
    platform: "darwin-arm64",
    format: machO,
    embedRoot: "/$bunfs/root/",
  },
];

/** The addon packages' versions, as lmdb and msgpackr-extract pin them. */
function pinnedVersion(owner: string, pkg: string): string {
  const manifest = JSON.parse(
    readFileSync(join(root, "node_modules", owner, "package.json"), "utf8"),
  ) as { optionalDependencies: Record<string, string> };
  const version = manifest.optionalDependencies[pkg];
  if (!version) throw new Error(`${owner} names no ${pkg}`);
  return version;
}

const bunVersion = () =>
  (
    JSON.parse(readFileSync(join(root, "node_modules", "bun", "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

/**
 * The folder of npm package `pkg@version`: installed (this machine's platform) or unpacked
 * from `npm pack` into node_modules/.cache (npm keeps the tarball in its cache, so a second
 * build needs no network).
 */
function packageDir(pkg: string, version: string): string {
  const installed = join(root, "node_modules", pkg);
  if (existsSync(join(installed, "package.json"))) {
    const found = (
      JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    if (found === version) return installed;
  }
  const dir = join(packages, `${pkg.replace("/", "+")}@${version}`);
  if (existsSync(join(dir, "package.json"))) return dir;
  mkdirSync(dir, { recursive: true });
  const packed = spawnSync(
    "npm",
    ["pack", "--silent", `${pkg}@${version}`, "--pack-destination", dir],
    {
      encoding: "utf8",
    },
  );
  if (packed.status !== 0)
    throw new Error(
      `npm pack ${pkg}@${version} failed (offline and not in npm's cache?):\n${packed.stderr}`,
    );
  const tarball = join(dir, packed.stdout.trim().split("\n").pop()!);
  const untar = spawnSync("tar", ["xzf", tarball, "-C", dir, "--strip-components=1"]);
  if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}`);
  rmSync(tarball);
  return dir;
}

/** The N-API build of an addon package: glibc's on Linux, the only one elsewhere. */
function addonFile(pkg: string, version: string): string {
  const dir = packageDir(pkg, version);
  for (const name of ["node.napi.glibc.node", "node.napi.node"])
    if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`no N-API addon in ${dir}`);
}

/** The virtual module standing in for node-gyp-build-optional-packages, per addon owner. */
const ADDON_MODULE = "trackd-native-addon-of-";

/** Native addons the bundle loads, by owning package (filled while bundling). */
const addonOwners = new Set<string>();

/**
 * lmdb (and msgpackr-extract) find their addon at run time through
 * node-gyp-build-optional-packages, which cannot work inside a compiled binary: it is replaced
 * by a module that requires `./native/<package>.node` beside the bundle, where step 2 puts
 * the target's own file.
 */
const nativeAddonsBeside: BunPlugin = {
  name: "native-addons-beside",
  setup(build) {
    build.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (args) => {
      const owner = ["lmdb", "msgpackr-extract"].find((pkg) =>
        args.importer.includes(`/node_modules/${pkg}/`),
      );
      if (!owner)
        throw new Error(
          `unexpected importer of node-gyp-build-optional-packages: ${args.importer}`,
        );
      addonOwners.add(owner);
      // Not the package's own name: a virtual module at the path "lmdb" was now and then
      // taken for the lmdb package itself by Bun 1.4.5's bundler (in another namespace, the
      // same path), and modules importing lmdb then got `() => addon` (`open is not a function`).
      return { path: `${ADDON_MODULE}${owner}`, namespace: "native-addon" };
    });
    build.onLoad({ filter: /.*/, namespace: "native-addon" }, (args) => ({
      contents: `const addon = require("./native/${args.path.slice(ADDON_MODULE.length)}.node");\nmodule.exports = () => addon;\n`,
      loader: "js",
    }));
    build.onResolve({ filter: /^\.\/native\// }, (args) => ({ path: args.path, external: true }));
    // The page is bundled in step 2, into the binary; run from dist/.build, Bun serves it from source.
    build.onResolve({ filter: /ui\/index\.html$/ }, () => ({
      path: join(root, "ui", "index.html"),
      external: true,
    }));
  },
};

/** Step 1: dist/.build/trackd.js, its first line naming the SHA-256 of the rest. */
async function bundle(): Promise<{ file: string; sha: string }> {
  rmSync(work, { recursive: true, force: true });
  const result = await Bun.build({
    entrypoints: [join(root, "server", "main.ts")],
    outdir: work,
    naming: "trackd.js",
    target: "bun",
    // Readable (stack traces name functions); step 2 minifies the flat file.
    minify: false,
    define: {
      "process.env.NODE_ENV": JSON.stringify("production"),
      // The Web SDK, bundled now: runtime/bun.ts serves it as /sdk.js.
      TRACKD_SDK: JSON.stringify(await buildSdk()),
    },
    plugins: [nativeAddonsBeside],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("bundling failed");
  }
  const file = join(work, "trackd.js");
  const code = readFileSync(file, "utf8");
  // The bundle names the checkout's folder (the page's import for step 2, a module's
  // __dirname): hashed with it as "<root>", so one commit has one build ID wherever it is built.
  const sha = createHash("sha256").update(code.replaceAll(root, "<root>")).digest("hex");
  writeFileSync(file, `globalThis.TRACKD_BUNDLE=${JSON.stringify(sha)};\n${code}`);
  return { file, sha };
}

/** A folder holding the bundle and `target`'s addons, as step 2 compiles it. */
function stage(bundleFile: string, target: Target): string {
  const dir = join(work, target.file);
  mkdirSync(join(dir, "native"), { recursive: true });
  linkOrCopy(bundleFile, join(dir, "trackd.js"));
  for (const owner of addonOwners) {
    const pkg =
      owner === "lmdb"
        ? `@lmdb/lmdb-${target.platform}`
        : `@msgpackr-extract/msgpackr-extract-${target.platform}`;
    copyFileSync(addonFile(pkg, pinnedVersion(owner, pkg)), join(dir, "native", `${owner}.node`));
  }
  return dir;
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Runs `command` (the bundle under this Bun, or a compiled binary) as an operator would: serve
 * on a scratch data directory, store an event and read it back, stop; then `backup` that
 * directory and `verify` the copy. True if all of it worked: every path that opens LMDB ran.
 */
async function runsEveryPath(command: string[]): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "trackd-build-check-"));
  const data = join(dir, "data");
  const env = { ...process.env, TRACKD_ADMIN_TOKEN: "build-check" };
  const proc = Bun.spawn([...command, "--port", "0", "--host", "127.0.0.1", "--data-dir", data], {
    env,
    stdout: "ignore",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  let logs = "";
  let port = 0;
  const decoder = new TextDecoder();
  for await (const chunk of proc.stderr) {
    logs += decoder.decode(chunk, { stream: true });
    const m = /"msg":"trackd listening","address":"[^"]*:(\d+)"/.exec(logs);
    if (m) {
      port = Number(m[1]);
      break;
    }
  }
  let ok = false;
  if (port > 0) {
    const base = `http://127.0.0.1:${port}`;
    const posted = await fetch(`${base}/collect/1/1/event`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        action: "view",
        object: "vehicle",
        vendor: "build",
        product: "check",
        instance_id: "build-check",
      }),
    }).catch(() => null);
    const id = posted?.status === 204 ? posted.headers.get("x-event-id") : null;
    const read = id
      ? await fetch(`${base}/admin/api/events/${id}`, {
          headers: { authorization: `Bearer ${env.TRACKD_ADMIN_TOKEN}` },
        }).catch(() => null)
      : null;
    ok = read?.status === 200;
  }
  proc.kill("SIGTERM");
  await proc.exited;
  clearTimeout(timer);
  for (const args of [
    ["backup", join(dir, "copy"), "--data-dir", data],
    ["verify", join(dir, "copy")],
  ]) {
    if (!ok) break;
    const run = spawnSync(command[0]!, [...command.slice(1), ...args], { env, encoding: "utf8" });
    ok = run.status === 0;
    logs += run.stdout + run.stderr;
  }
  rmSync(dir, { recursive: true, force: true });
  if (!ok) console.error(logs.trim().split("\n").slice(-4).join("\n"));
  return ok;
}

/** Step 2 for one target: the staged bundle compiled with the target's runtime. */
async function compile(staged: string, target: Target, outfile: string): Promise<void> {
  const runtime = target.runtime
    ? join(
        packageDir(target.runtime, bunVersion()),
        "bin",
        target.bun.includes("windows") ? "bun.exe" : "bun",
      )
    : undefined;
  const result = await Bun.build({
    entrypoints: [
      join(staged, "trackd.js"),
      ...[...addonOwners].map((owner) => join(staged, "native", `${owner}.node`)),
    ],
    compile: { target: target.bun, outfile, ...(runtime && { executablePath: runtime }) },
    naming: { asset: "native/[name].[ext]" },
    // Names kept: Elysia's generated handlers recognize errors and plugins by their class name
    // (`error.constructor.name === 'TransformDecodeError'`); renamed, a failed validation was
    // swallowed and its value passed unchecked.
    minify: { whitespace: true, syntax: true, identifiers: true, keepNames: true },
    sourcemap: "none",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`compiling for ${target.bun} failed`);
  }
}

/** What can be checked of a binary without running it; throws naming what is wrong. */
function checkStructure(binary: string, target: Target, sha: string): void {
  const bytes = readFileSync(binary);
  if (!target.format(bytes)) throw new Error(`${binary} is not an executable for ${target.bun}`);
  if (bytes.indexOf(sha) < 0) throw new Error(`${binary} does not carry bundle ${sha}`);
  for (const owner of addonOwners)
    if (bytes.indexOf(`${target.embedRoot}native/${owner}.node`) < 0)
      throw new Error(`${binary} does not embed native/${owner}.node`);
}

const hostTarget = (): Target => {
  const t = TARGETS.find((t) => t.platform === `${process.platform}-${process.arch}`);
  if (!t) throw new Error(`no build target for ${process.platform}-${process.arch}`);
  return t;
};

async function main(all: boolean): Promise<void> {
  let bundled: { file: string; sha: string } | null = null;
  for (let attempt = 1; attempt <= 4 && !bundled; attempt++) {
    addonOwners.clear();
    const b = await bundle();
    const host = stage(b.file, hostTarget());
    if (await runsEveryPath([process.execPath, join(host, "trackd.js")])) bundled = b;
    else
      console.error(`bundle ${attempt} (${b.sha}) did not store an event when run; bundling again`);
  }
  if (!bundled) throw new Error("no bundle ran in four attempts");
  console.log(`bundle ${bundled.sha} serves, stores, backs up and verifies`);

  const canRun = (t: Target) => t.platform === `${process.platform}-${process.arch}`;
  const built: { file: string; target: Target }[] = [];
  for (const target of all ? TARGETS : [hostTarget()]) {
    const file = join(dist, all ? target.file : "trackd");
    const staged = stage(bundled.file, target);
    await compile(staged, target, file);
    checkStructure(file, target, bundled.sha);
    // A binary this machine runs is run; a compile that came out broken is compiled again.
    if (canRun(target) && !(await runsEveryPath([file]))) {
      console.error(`${file} failed when run; compiling again`);
      await compile(staged, target, file);
      if (!(await runsEveryPath([file]))) throw new Error(`${file} does not run`);
    }
    console.log(`built ${file} (${canRun(target) ? "ran it" : "checked its structure"})`);
    built.push({ file, target });
  }
  if (all) {
    const sums = built.map(
      ({ file, target }) =>
        `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${target.file}`,
    );
    writeFileSync(join(dist, "SHA256SUMS"), `${sums.join("\n")}\n`);
  }
  rmSync(work, { recursive: true, force: true });
}

if (import.meta.main)
  await main(process.argv.includes("--all")).catch((err: unknown) => {
    console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
