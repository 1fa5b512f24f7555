/** The entry point on Bun (npm start, dist/trackd). */

// The compiled binary writes its native addons to $TMPDIR before loading them (runtime/native-dir.ts).
if (import.meta.url.includes("/$bunfs/")) {
  const { nativeDir, runWithTmpdir } = await import("./runtime/native-dir.ts");
  const dir = nativeDir(process.argv.slice(2), process.env);
  if (dir.kind === "none") {
    process.stderr.write(`trackd: ${dir.message}\n`);
    process.exit(1);
  }
  if (dir.kind === "restart") {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: "warn", msg: "TMPDIR does not allow executing files: native addons go to the data directory", tmpdir: dir.instead, using: dir.tmpdir })}\n`,
    );
    process.exit(await runWithTmpdir(dir.tmpdir));
  }
}
const { bunRuntime } = await import("./runtime/bun.ts");
const { start } = await import("./start.ts");
await start(bunRuntime);
