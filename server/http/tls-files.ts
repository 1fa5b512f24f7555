/**
 * The listener's certificate and key, read from the files the config names and checked
 * before any listener uses them: a renewed certificate that does not match its key, has
 * already expired or is not valid yet, is refused with a sentence instead of breaking every
 * handshake.
 */
import { readFileSync } from "node:fs";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Config } from "../config/schema.ts";

export interface TlsFiles {
  cert: string;
  key: string;
  /** For the log: who the certificate is for and until when. */
  subject: string;
  validTo: string;
}

export class TlsError extends Error {}

/** The PEM pair the config names, or null when TLS is off; throws TlsError saying what is wrong. */
export function readTlsFiles(tls: Config["tls"], now = Date.now()): TlsFiles | null {
  if (tls.certFile === "" && tls.keyFile === "") return null;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new TlsError(
        `cannot read the TLS ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  };
  const cert = read(tls.certFile, "certificate");
  const key = read(tls.keyFile, "key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsError(`${tls.certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new TlsError(`${tls.keyFile} is not a PEM private key (${(err as Error).message})`);
  }
  if (!matches) throw new TlsError(`${tls.keyFile} is not the key of ${tls.certFile}`);
  if (Date.parse(x509.validTo) < now)
    throw new TlsError(`${tls.certFile} expired on ${new Date(x509.validTo).toISOString()}`);
  if (Date.parse(x509.validFrom) > now)
    throw new TlsError(
      `${tls.certFile} is not valid until ${new Date(x509.validFrom).toISOString()} (check the clock, or the certificate's dates)`,
    );
  return {
    cert,
    key,
    subject: x509.subject.replace(/\n/g, ", "),
    validTo: new Date(x509.validTo).toISOString(),
  };
}
