/** Self-signed certificates made by the system's openssl, as an operator's would be. */
import { join } from "node:path";
import { requireCommand } from "./system-package.ts";

export interface Certificate {
  cert: string;
  key: string;
}

/** Writes `<name>.pem` and `<name>.key` in `dir`: RSA 2048, valid a day, for `commonName`, localhost and 127.0.0.1. */
export function makeCertificate(dir: string, name: string, commonName: string): Certificate {
  const openssl = requireCommand("openssl", "openssl");
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  const made = Bun.spawnSync(
    [
      openssl,
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1`,
      "-keyout",
      files.key,
      "-out",
      files.cert,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr}`);
  return files;
}
