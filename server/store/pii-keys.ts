/**
 * The keys that seal customers' contact details: one random AES-256 key per UTC day, in a
 * small JSON file beside the store (or where pii.keyFile says), mode 0600, never inside the
 * LMDB file. A day's key is dropped when its contacts pass pii.retentionDays: the file is
 * rewritten without it, so every record sealed with it is unreadable from then on, even
 * where LMDB has not yet reused the freed pages, and in every backup of the store.
 */
import { createHmac, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";

/** The file name of the keys under the data directory, when pii.keyFile does not say. */
export const PII_KEY_FILE = "pii-keys.json";

interface KeyFile {
  format: 1;
  /** UTC day (YYYY-MM-DD) to its key, base64. */
  keys: Record<string, string>;
}

/** A day, as records name their key: YYYY-MM-DD of a UTC time. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class PiiKeys {
  private readonly keys = new Map<string, Buffer>();
  private readonly derivedKeys = new Map<string, Buffer>();

  /** Reads the key file, creating an empty one (0600) if there is none. */
  constructor(readonly path: string) {
    if (!existsSync(path)) {
      this.save();
      return;
    }
    const file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
    if (file.format !== 1 || typeof file.keys !== "object")
      throw new Error(`${path} is not a trackd key file (format 1)`);
    for (const [day, key] of Object.entries(file.keys))
      this.keys.set(day, Buffer.from(key, "base64"));
    // Readable by the owner only, whatever a copy or an umask made of it.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }

  /** The key of a day, or undefined once dropped (or never made). */
  get(day: string): Buffer | undefined {
    return this.keys.get(day);
  }

  /** The key of a day, made and written to the file first if it has none yet. */
  getOrCreate(day: string): Buffer {
    let key = this.keys.get(day);
    if (key) return key;
    key = randomBytes(32);
    this.keys.set(day, key);
    try {
      this.save();
    } catch (err) {
      this.keys.delete(day); // not on disk: nothing may be sealed with it
      throw err;
    }
    return key;
  }

  /**
   * A key for another purpose (`purpose`: hashing addresses) made from a day's key, so it is
   * gone with it; never the day's key itself, which seals customers.
   */
  derived(day: string, purpose: string): Buffer {
    const cacheKey = `${day}\u0000${purpose}`;
    let key = this.derivedKeys.get(cacheKey);
    if (!key) {
      key = createHmac("sha256", this.getOrCreate(day)).update(`trackd ${purpose}`).digest();
      this.derivedKeys.set(cacheKey, key);
    }
    return key;
  }

  /** Drops the keys of days before `day`; the number dropped. */
  dropBefore(day: string): number {
    const old = [...this.keys.keys()].filter((d) => d < day);
    if (old.length === 0) return 0;
    const kept = new Map(this.keys);
    for (const d of old) kept.delete(d);
    this.save(kept);
    for (const d of old) this.keys.delete(d);
    for (const k of [...this.derivedKeys.keys()])
      if (k.slice(0, k.indexOf("\u0000")) < day) this.derivedKeys.delete(k);
    return old.length;
  }

  /** The days that have a key, oldest first. */
  days(): string[] {
    return [...this.keys.keys()].sort();
  }

  /** Writes the file whole, durably: a temporary file, fsynced, renamed over the old one. */
  private save(keys: Map<string, Buffer> = this.keys): void {
    const file: KeyFile = { format: 1, keys: {} };
    for (const [day, key] of [...keys].sort(([a], [b]) => a.localeCompare(b)))
      file.keys[day] = key.toString("base64");
    const tmp = `${this.path}.tmp`;
    rmSync(tmp, { force: true }); // a leftover keeps its mode: made afresh, it is 0600
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    try {
      const dir = openSync(dirname(this.path), "r");
      try {
        fsyncSync(dir); // the rename itself, on filesystems that need it
      } finally {
        closeSync(dir);
      }
    } catch {
      // Windows cannot open a directory; its rename is durable enough for a key file.
    }
  }
}
