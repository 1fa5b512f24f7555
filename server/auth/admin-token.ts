/**
 * The admin token: created on first start (random, 256 bits), kept in the data directory with
 * mode 0600, printed once; TRACKD_ADMIN_TOKEN overrides it. Compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";

export const TOKEN_FILE = "admin-token";

/** Returns the admin token and whether this call created it (so the caller prints it once). */
export function ensureAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): { token: string; created: boolean; file: string | null } {
  if (fromEnv) return { token: fromEnv, created: false, file: null };
  const file = join(dataDir, TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { token, created: false, file };
  }
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  chmodSync(file, 0o600); // in case the file existed empty with wider permissions
  return { token, created: true, file };
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
