/**
 * `trackd backup`: a consistent copy of the LMDB environment, taken while trackd serves.
 * LMDB copies from one read transaction (mdb_env_copy2 with compaction), so the copy holds
 * every event committed before it began, and the writer is never blocked; compaction leaves
 * out freed pages, so the copy is as small as the data. The admin token and the key trackers'
 * secrets are derived under are copied beside it; the keys sealing customers are not
 * (pii-keys.ts: a backup's customers are readable only while the live server keeps their key).
 */
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { TOKEN_FILE } from "../auth/admin-token.ts";
import { STORE_FILE, STORE_OPTIONS } from "./open-store.ts";
import { SECRETS_KEY_FILE } from "./tracker-secrets.ts";
import { SUPPRESSION_KEY_FILE } from "./suppressions.ts";
import { STORE_FORMAT, storeFormatOf, storeUnreadable } from "./store-format.ts";

export class BackupError extends Error {}

export interface BackupResult {
  file: string;
  bytes: number;
  /** Whether the admin token file was copied beside it. */
  token: boolean;
}

/** Copies the store in `dataDir` (and its admin token and secrets key) into `target`, a new or empty directory. */
export async function backupStore(dataDir: string, target: string): Promise<BackupResult> {
  const source = join(dataDir, STORE_FILE);
  const unreadable = storeUnreadable(source);
  if (unreadable) throw new BackupError(unreadable);
  try {
    if (existsSync(target) && readdirSync(target).length > 0)
      throw new BackupError(`${target} is not empty: back up into a new or empty directory`);
    mkdirSync(target, { recursive: true, mode: 0o700 });
    accessSync(target, constants.W_OK);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BackupError(`cannot back up into ${target} (${code ?? String(err)})`);
  }
  const root = open({ ...STORE_OPTIONS, path: source, readOnly: true });
  const file = join(target, STORE_FILE);
  try {
    const format = storeFormatOf(root);
    if (format !== STORE_FORMAT)
      throw new BackupError(
        `${source} is in store format ${format ?? "1"}; this trackd backs up format ${STORE_FORMAT} (start the matching trackd once to migrate)`,
      );
    await root.backup(file, true);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`cannot write ${file} (${(err as Error).message})`);
  } finally {
    await root.close();
  }
  const copied = (name: string) => {
    const there = existsSync(join(dataDir, name));
    if (there) copyFileSync(join(dataDir, name), join(target, name));
    return there;
  };
  const token = copied(TOKEN_FILE);
  copied(SECRETS_KEY_FILE); // without it, trackers' secrets cannot be derived again
  copied(SUPPRESSION_KEY_FILE); // without it, erased identifiers would link again
  return { file, bytes: statSync(file).size, token };
}
