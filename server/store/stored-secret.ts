/**
 * What the stores of credentials share (export credentials, admin credentials, trackers'
 * secrets): a random secret kept as its SHA-256 only (256 random bits need no slow hash),
 * compared in constant time, and its last use written at most once a minute.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Database } from "lmdb";

export const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/** True if `given`'s SHA-256 is `storedHex`, compared in constant time. */
export const matchesDigest = (given: string, storedHex: string): boolean =>
  timingSafeEqual(sha256(given), Buffer.from(storedHex, "hex"));

/** How often a credential's last use is written (a busy sender uses it many times a second). */
const LAST_USE_EVERY_MS = 60_000;

/** Notes that `record` (under `key` in `db`) was used now; a lost note is only a stale date. */
export function noteLastUse<T extends { lastUsedAt: string | null }>(
  db: Database<T, string>,
  key: string,
  record: T,
  now: number,
): void {
  const last = record.lastUsedAt === null ? 0 : Date.parse(record.lastUsedAt);
  if (now - last > LAST_USE_EVERY_MS)
    db.put(key, { ...record, lastUsedAt: new Date(now).toISOString() }).catch(() => {});
}
