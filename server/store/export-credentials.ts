/**
 * Each account's export credential: a user name and password an ad platform's scheduled
 * upload fetches that account's conversion files with (HTTP Basic), good for nothing else.
 * The password is 256 random bits, shown once; only its SHA-256 is kept (a random secret of
 * that size needs no slow hash), compared in constant time. One per account: making a new
 * one replaces the old.
 */
import { randomBytes } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { matchesDigest, noteLastUse, sha256 } from "./stored-secret.ts";

export interface ExportCredential {
  username: string;
  /** SHA-256 of the password, hex. */
  passwordSha256: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What the registry shows of a credential: never the password or its hash. */
export type ExportCredentialInfo = Omit<ExportCredential, "passwordSha256">;

export class ExportCredentials {
  private readonly db: Database<ExportCredential, string>;

  constructor(root: RootDatabase) {
    this.db = root.openDB({ name: "export-credentials" });
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** Makes the account's credential (replacing any), and returns its password once. */
  async create(accountId: string, now: number): Promise<{ username: string; password: string }> {
    const username = `export-${accountId}`;
    const password = randomBytes(32).toString("base64url");
    await this.db.put(accountId, {
      username,
      passwordSha256: sha256(password).toString("hex"),
      createdAt: new Date(now).toISOString(),
      lastUsedAt: null,
    });
    return { username, password };
  }

  info(accountId: string): ExportCredentialInfo | null {
    const c = this.db.get(accountId);
    if (!c) return null;
    const { passwordSha256: _, ...info } = c;
    return info;
  }

  /** Deletes the account's credential; false if it had none. */
  remove(accountId: string): Promise<boolean> {
    return this.db.remove(accountId);
  }

  /** The account a user name and password belong to, or null; notes the use. */
  check(username: string, password: string, now: number): string | null {
    if (!username.startsWith("export-")) return null;
    const accountId = username.slice("export-".length);
    const c = this.db.get(accountId);
    if (!c || c.username !== username) return null;
    if (!matchesDigest(password, c.passwordSha256)) return null;
    noteLastUse(this.db, accountId, c, now);
    return accountId;
  }
}
