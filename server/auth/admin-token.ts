/**
 * The admin token: created on first start (random, 256 bits), kept in the data directory with
 * mode 0600, printed once; TRACKD_ADMIN_TOKEN overrides it. Compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { readOrCreateSecret } from "./key-file.ts";

export const TOKEN_FILE = "admin-token";

/** Returns the admin token and whether this call created it (so the caller prints it once). */
export function ensureAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): { token: string; created: boolean; file: string | null } {
  if (fromEnv) return { token: fromEnv, created: false, file: null };
  const file = join(dataDir, TOKEN_FILE);
  const { secret, created } = readOrCreateSecret(file);
  return { token: secret, created, file };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison: hashing first makes lengths equal and leaks nothing about the token. */
export function tokenMatches(candidate: string, token: string): boolean {
  return timingSafeEqual(digest(candidate), digest(token));
}

/** Extracts the token from `Authorization: Bearer <token>`. */
export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
