/**
 * One serving process per data directory. LMDB itself lets two processes open one
 * environment, and two trackd on one store deliver events twice and lose some (two flushers
 * move the same cursors). So the serving process holds an exclusive lock on `trackd.lock` in
 * the data directory for its whole life; the file names the process that holds it. backup and
 * verify only read, and take no lock.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "trackd.lock";

/** The data directory is another trackd's, or cannot be locked at all: the message says which. */
export class DataDirInUse extends Error {}

/**
 * Locks `dataDir` (created if need be) for this process, or throws DataDirInUse naming the
 * directory and the process that holds it. `tryLock` is the runtime's (Runtime.tryLock);
 * where it cannot lock (null: Bun on Windows) a live process named in the file counts.
 */
export function lockDataDir(dataDir: string, tryLock: (path: string) => boolean | null): void {
  const path = join(dataDir, LOCK_FILE);
  let locked: boolean | null;
  let holder: number;
  try {
    mkdirSync(dataDir, { recursive: true });
    locked = tryLock(path);
    holder = Number.parseInt(readFileSync(path, "utf8"), 10);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new DataDirInUse(
      `cannot lock ${path} (${code}): run trackd as the user that owns ${dataDir}`,
    );
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  if (
    locked === false ||
    (locked === null && holder > 0 && holder !== process.pid && alive(holder))
  )
    throw new DataDirInUse(
      `${dataDir} is in use by another trackd (process ${holder > 0 ? holder : "unknown"}): stop it, or give this one another --data-dir`,
    );
  writeFileSync(path, `${process.pid}\n`);
}
