/**
 * The secrets a tracker's server-side senders prove themselves with (ingest/server-auth.ts):
 * at most two live per tracker, so one can be rotated while the other still works.
 *
 * A secret is never stored. It is derived when made and when checked: HMAC-SHA256, under a
 * key in its own file beside the store (`tracker-secrets.key`, mode 0600, never inside the
 * LMDB file), of the tracker and the secret's ID. The store keeps the ID, the secret's SHA-256
 * (a bearer secret is compared by it) and when it was made and last used. An HMAC needs the
 * secret itself, so a one-way hash alone could not check a signature: deriving it means a copy
 * of the LMDB file alone reveals no secret. Backups copy the key file with the store (like the
 * admin token), so a restored server keeps its senders working.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { readOrCreateSecret } from "../auth/key-file.ts";
import { noteLastUse, sha256 } from "./stored-secret.ts";

/** The key file's name in the data directory. */
export const SECRETS_KEY_FILE = "tracker-secrets.key";
/** Live secrets per tracker: the one in use and its successor during a rotation. */
export const MAX_SECRETS = 2;

export interface TrackerSecret {
  id: string;
  accountId: string;
  trackerId: string;
  /** SHA-256 of the secret, hex. */
  sha256: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * What the registry shows of a secret: never the secret or its hash. `usable` is false when
 * the key file is not the one it was made with (restored without it): retire and remake it.
 */
export type TrackerSecretInfo = Omit<TrackerSecret, "sha256"> & { usable: boolean };

/** A live secret, derived, as a check needs it. */
export interface LiveSecret {
  id: string;
  secret: string;
  sha256: Buffer;
}

const pair = (accountId: string, trackerId: string) => `${accountId}/${trackerId}`;

export class TrackerSecrets {
  private readonly db: Database<TrackerSecret, string>;
  private readonly key: Buffer;
  /** Each tracker's live secrets, derived once: the collect route checks them per event. */
  private readonly live = new Map<string, LiveSecret[]>();
  private lastIdMs = 0;

  constructor(root: RootDatabase, keyFile: string) {
    this.db = root.openDB({ name: "tracker-secrets" });
    this.key = Buffer.from(readOrCreateSecret(keyFile).secret, "utf8");
    for (const { value } of this.db.getRange()) this.remember(value);
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** Makes a secret for the tracker and returns it this once; null if it has two already. */
  async create(
    accountId: string,
    trackerId: string,
    now: number,
  ): Promise<{ id: string; secret: string } | null> {
    if (this.records(accountId, trackerId).length >= MAX_SECRETS) return null;
    // IDs sort as they were made (the list shows the one in use before its successor).
    this.lastIdMs = Math.max(now, this.lastIdMs + 1);
    const id = this.lastIdMs.toString(16).padStart(12, "0") + randomBytes(3).toString("hex");
    const secret = this.derive(accountId, trackerId, id);
    const record: TrackerSecret = {
      id,
      accountId,
      trackerId,
      sha256: sha256(secret).toString("hex"),
      createdAt: new Date(now).toISOString(),
      lastUsedAt: null,
    };
    await this.db.put(`${pair(accountId, trackerId)}/${id}`, record);
    this.remember(record);
    return { id, secret };
  }

  /** The tracker's secrets, oldest first (their IDs sort by time), as the registry shows them. */
  list(accountId: string, trackerId: string): TrackerSecretInfo[] {
    const live = new Set(this.liveSecrets(accountId, trackerId).map((s) => s.id));
    return this.records(accountId, trackerId).map(({ sha256: _, ...info }) => ({
      ...info,
      usable: live.has(info.id),
    }));
  }

  /** The tracker's live secrets, derived (for checking a signature or a bearer secret). */
  liveSecrets(accountId: string, trackerId: string): LiveSecret[] {
    return this.live.get(pair(accountId, trackerId)) ?? [];
  }

  /** The live secret a bearer value is, or undefined (compared in constant time). */
  matchBearer(accountId: string, trackerId: string, value: string): LiveSecret | undefined {
    const digest = sha256(value);
    return this.liveSecrets(accountId, trackerId).find((s) => timingSafeEqual(digest, s.sha256));
  }

  /** Retires a secret; false if the tracker has none with this ID. */
  async remove(accountId: string, trackerId: string, id: string): Promise<boolean> {
    const removed = await this.db.remove(`${pair(accountId, trackerId)}/${id}`);
    if (removed) this.forget(accountId, trackerId, id);
    return removed;
  }

  /** Retires every secret of a tracker (it was deleted). */
  async removeAll(accountId: string, trackerId: string): Promise<void> {
    for (const s of this.records(accountId, trackerId))
      await this.remove(accountId, trackerId, s.id);
  }

  /** Notes that a secret was used (at most once a minute; a lost note is only a stale date). */
  noteUse(accountId: string, trackerId: string, id: string, now: number): void {
    const key = `${pair(accountId, trackerId)}/${id}`;
    const record = this.db.get(key);
    if (record) noteLastUse(this.db, key, record, now);
  }

  private records(accountId: string, trackerId: string): TrackerSecret[] {
    const prefix = `${pair(accountId, trackerId)}/`;
    const out: TrackerSecret[] = [];
    for (const { key, value } of this.db.getRange({ start: prefix }))
      if (key.startsWith(prefix)) out.push(value);
      else break;
    return out;
  }

  private derive(accountId: string, trackerId: string, id: string): string {
    const mac = createHmac("sha256", this.key).update(
      `tracker-secret/${pair(accountId, trackerId)}/${id}`,
    );
    return `tds_${mac.digest("base64url")}`;
  }

  /** Derives a stored secret into the live ones, unless the key file is not the one it was made with. */
  private remember(record: TrackerSecret): void {
    const key = pair(record.accountId, record.trackerId);
    const secret = this.derive(record.accountId, record.trackerId, record.id);
    if (sha256(secret).toString("hex") !== record.sha256) return;
    const list = (this.live.get(key) ?? []).filter((s) => s.id !== record.id);
    list.push({ id: record.id, secret, sha256: sha256(secret) });
    this.live.set(key, list);
  }

  private forget(accountId: string, trackerId: string, id: string): void {
    const key = pair(accountId, trackerId);
    const list = (this.live.get(key) ?? []).filter((s) => s.id !== id);
    if (list.length > 0) this.live.set(key, list);
    else this.live.delete(key);
  }
}
