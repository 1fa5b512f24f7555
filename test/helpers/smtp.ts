/**
 * A real SMTP server for the ADF sink's tests (the smtp-server package, Nodemailer's own):
 * STARTTLS with a self-signed certificate, a user name and password, and answers a test
 * scripts: "ok", "tempfail" (451 to every message, as a server under maintenance) or a
 * recipient refused for good (550). Each accepted message is parsed with mailparser.
 */
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { makeCertificate } from "./certificate.ts";
import { freePort } from "./ports.ts";
import { tempDir } from "./test-app.ts";

export const SMTP_USER = "trackd";
export const SMTP_PASSWORD = "relay-password";

export interface Mailbox {
  port: number;
  mode: "ok" | "tempfail";
  /** Recipients answered 550. */
  refused: Set<string>;
  messages: ParsedMail[];
  /** Every attempt at DATA, accepted or not. */
  attempts: number;
  stop(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const cert = makeCertificate(tempDir("trackd-smtp-"), "smtp", "localhost");
  const port = await freePort();
  const box: Mailbox = {
    port,
    mode: "ok",
    refused: new Set(),
    messages: [],
    attempts: 0,
    stop: async () => {},
  };
  const server = new SMTPServer({
    key: await Bun.file(cert.key).text(),
    cert: await Bun.file(cert.cert).text(),
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD)
        return callback(null, { user: auth.username });
      callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (box.refused.has(address.address)) {
        const err = new Error("No such mailbox here") as Error & { responseCode: number };
        err.responseCode = 550;
        return callback(err);
      }
      callback();
    },
    onData(stream, _session, callback) {
      box.attempts++;
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        if (box.mode === "tempfail") {
          const err = new Error("Try again later") as Error & { responseCode: number };
          err.responseCode = 451;
          return callback(err);
        }
        box.messages.push(await simpleParser(Buffer.concat(chunks)));
        callback();
      });
    },
  });
  // A client killed mid-connection (the kill -9 tests) resets its socket: smtp-server emits
  // that on the server, where an unheard "error" would fail whichever test is running.
  server.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "ECONNRESET" && err.code !== "EPIPE") throw err;
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  box.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return box;
}

/** An adf sink's smtp settings for the test's server on `port`: STARTTLS, its certificate taken as it is, the test's login. */
export function smtpSettings(port: number, to: string[], extra: Record<string, unknown> = {}) {
  return {
    host: "127.0.0.1",
    port,
    security: "starttls",
    rejectUnauthorized: false,
    user: SMTP_USER,
    password: SMTP_PASSWORD,
    from: "trackd@mainstreet.example",
    to,
    ...extra,
  };
}
