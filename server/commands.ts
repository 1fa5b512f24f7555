/**
 * The operations commands of the same binary: `trackd backup <dir>` and `trackd verify
 * [<data-dir>]`. Both take the usual flags and config (for --data-dir), and talk to the
 * store only: they run beside a serving trackd.
 */
import { resolve } from "node:path";
import { ConfigError, loadConfig } from "./config/load.ts";
import { BackupError, backupStore } from "./store/backup-store.ts";
import { verifyStore } from "./store/verify-store.ts";

export const COMMAND_USAGE = `commands:
  trackd backup <target-dir> [--data-dir DIR | --config FILE]
      copy the store (compacted) and the admin token into a new or empty directory, while trackd serves
  trackd verify [<data-dir>] [--data-dir DIR | --config FILE]
      check a data directory or a backup, read-only: exit 0 if whole, 1 with each problem found`;

/** Runs the command `argv` starts with; resolves with the exit code, or null if it is no command. */
export async function runCommand(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<number | null> {
  const [command, ...rest] = argv;
  if (command !== "backup" && command !== "verify") return null;
  const positional = rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(COMMAND_USAGE);
    return 0;
  }
  let dataDir: string;
  try {
    dataDir = resolve(loadConfig(rest, env).config.dataDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`trackd ${command}: ${err.message}\n`);
    return 2;
  }
  if (command === "backup") {
    if (positional === undefined) {
      process.stderr.write(`trackd backup: name the directory to back up into\n${COMMAND_USAGE}\n`);
      return 2;
    }
    return backup(dataDir, resolve(positional));
  }
  return verify(positional === undefined ? dataDir : resolve(positional));
}

async function backup(dataDir: string, target: string): Promise<number> {
  const started = performance.now();
  try {
    const done = await backupStore(dataDir, target);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `trackd backup: ${dataDir} copied to ${done.file} (compacted, ${done.bytes} bytes, ${seconds} s)${done.token ? "; admin token copied" : ""}`,
    );
    console.log(`Check it with: trackd verify ${target}`);
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    process.stderr.write(`trackd backup: ${err.message}\n`);
    return 1;
  }
}

async function verify(dataDir: string): Promise<number> {
  const r = await verifyStore(dataDir);
  const lines = [`trackd verify: ${r.path}`];
  if (r.format !== null) {
    lines.push(
      `  store format ${r.format}`,
      `  events: ${r.events}${r.firstEventId ? ` (${r.firstEventId} to ${r.lastEventId})` : ""}`,
      `  link entries: ${r.links} (${r.danglingLinks} left by deleted events)`,
      ...r.sinks.map(
        (s) => `  sink ${s.name}: cursor ${s.cursor || "(none)"}, ${s.behind} events behind`,
      ),
      `  dead letters: ${r.deadLetters}`,
    );
  }
  const count = r.problems.length + r.moreProblems;
  if (count === 0) lines.push("OK");
  else
    lines.push(
      `${count} problem${count === 1 ? "" : "s"}:`,
      ...r.problems.map((p) => `  ${p}`),
      ...(r.moreProblems > 0 ? [`  ... and ${r.moreProblems} more`] : []),
    );
  console.log(lines.join("\n"));
  return count === 0 ? 0 : 1;
}
