/**
 * Named admin credentials (auth/principal.ts): a role, the accounts they may see, a token
 * shown once. The token is `tdc_<id>_<secret>`: the ID finds the record, and only the
 * token's SHA-256 is kept (a 256-bit random secret needs no slow hash), compared in constant
 * time. Deleting one revokes it at once, with the sessions made with it.
 */
import { randomBytes } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import type { Principal, Role } from "../auth/principal.ts";
import { matchesDigest, noteLastUse, sha256 } from "./stored-secret.ts";

export interface AdminCredential {
  id: string;
  name: string;
  role: Role;
  /** null: every account. */
  accounts: string[] | null;
  /** SHA-256 of the token, hex. */
  sha256: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What the list shows of a credential: never the token or its hash. */
export type AdminCredentialInfo = Omit<AdminCredential, "sha256">;

const TOKEN = /^tdc_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/** True if a bearer value is shaped as a credential token (so the gate asks this store). */
export const isCredentialToken = (token: string): boolean => TOKEN.test(token);

export class AdminCredentials {
  private readonly db: Database<AdminCredential, string>;

  constructor(root: RootDatabase) {
    this.db = root.openDB({ name: "admin-credentials" });
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  async create(
    settings: { name: string; role: Role; accounts: string[] | null },
    now: number,
  ): Promise<{ credential: AdminCredentialInfo; token: string }> {
    const id = randomBytes(8).toString("hex");
    const token = `tdc_${id}_${randomBytes(32).toString("base64url")}`;
    const record: AdminCredential = {
      id,
      ...settings,
      sha256: sha256(token).toString("hex"),
      createdAt: new Date(now).toISOString(),
      lastUsedAt: null,
    };
    await this.db.put(id, record);
    const { sha256: _, ...credential } = record;
    return { credential, token };
  }

  list(): AdminCredentialInfo[] {
    return [...this.db.getRange()]
      .map(({ value: { sha256: _, ...info } }) => info)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes a credential; false if there is none with this ID. */
  remove(id: string): Promise<boolean> {
    return this.db.remove(id);
  }

  /** The principal a token is, or null; notes the use. */
  check(token: string, now: number): Principal | null {
    const id = TOKEN.exec(token)?.[1];
    const record = id === undefined ? undefined : this.db.get(id);
    if (!record) return null;
    if (!matchesDigest(token, record.sha256)) return null;
    noteLastUse(this.db, record.id, record, now);
    return principalOf(record);
  }

  /** The principal of a live credential by ID (a session made with it), or null once revoked. */
  byId(id: string, now: number): Principal | null {
    const record = this.db.get(id);
    if (!record) return null;
    noteLastUse(this.db, record.id, record, now);
    return principalOf(record);
  }
}

const principalOf = (c: AdminCredential): Principal => ({
  id: c.id,
  name: c.name,
  role: c.role,
  accounts: c.accounts === null ? null : new Set(c.accounts),
});
