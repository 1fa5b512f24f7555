/**
 * A secret kept in a file of its own in the data directory (the admin token, the key tracker
 * secrets are derived from): made on first use (256 random bits), mode 0600, read as is after.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** The file's secret, and whether this call made it (so the caller can say so once). */
export function readOrCreateSecret(file: string): { secret: string; created: boolean } {
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (secret) {
      // Readable by the owner only, whatever a copy or an umask made of it (a read-only
      // mount that cannot be changed is left as it is).
      if ((statSync(file).mode & 0o077) !== 0)
        try {
          chmodSync(file, 0o600);
        } catch {}
      return { secret, created: false };
    }
  }
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // in case the file existed empty with wider permissions
  return { secret, created: true };
}
