/**
 * Admin sessions ended by logging out, kept until they would have expired, in LMDB so that a
 * restart does not bring them back. Sessions themselves are stateless (auth/session.ts): a
 * cookie is valid if its HMAC is right, it has not expired and it is not in this list.
 */
import type { Database, RootDatabase } from "lmdb";

export class RevokedSessions {
  private readonly db: Database<number, string>;
  /** Session value -> when it would have expired (ms). */
  private readonly revoked = new Map<string, number>();

  constructor(root: RootDatabase, now: number = Date.now()) {
    this.db = root.openDB({ name: "revoked-sessions" });
    for (const { key, value } of this.db.getRange()) {
      if (value > now) this.revoked.set(key, value);
      else this.db.remove(key).catch(() => {}); // forgotten at the next read instead
    }
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** Ends a session for good; resolves once that is stored. */
  async revoke(session: string, expiresMs: number): Promise<void> {
    this.revoked.set(session, expiresMs);
    await this.db.put(session, expiresMs);
  }

  has(session: string): boolean {
    return this.revoked.has(session);
  }
}
