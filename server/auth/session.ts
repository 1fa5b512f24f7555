/**
 * Admin sessions without server-side state: the cookie holds an expiry (and, for a session
 * made with a named credential, its ID) and an HMAC of them keyed by the admin token, so it
 * survives restarts and dies when the token changes (or the credential is revoked: the gate
 * looks it up). Failed logins are limited per client address.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "trackd_session";
export const SESSION_TTL_MS = 12 * 3600_000;

const mac = (adminToken: string, expires: number, credential: string | undefined) =>
  createHmac("sha256", adminToken)
    .update(
      credential === undefined
        ? `trackd-session:${expires}`
        : `trackd-session:${expires}:${credential}`,
    )
    .digest("base64url");

/** A new session value valid until now + ttl: the owner's, or a named credential's. */
export function createSession(
  adminToken: string,
  now: number,
  ttlMs = SESSION_TTL_MS,
  credential?: string,
): string {
  const expires = now + ttlMs;
  const middle = credential === undefined ? "" : `${credential}.`;
  return `${expires}.${middle}${mac(adminToken, expires, credential)}`;
}

/**
 * A session cookie's one spelling: the expiry in epoch milliseconds as plain decimal digits
 * (no sign, leading zero, exponent or hex), a dot, for a credential's session its 16 hex
 * digits and a dot, and the 43-character base64url HMAC.
 * `Number()` would read `0<expiry>`, `+<expiry>`, `0x…` or `<expiry>e0` as the same expiry,
 * so a cookie revoked at logout would come back under another spelling.
 */
const SESSION_FORMAT = /^([1-9][0-9]{0,15})\.(?:([0-9a-f]{16})\.)?([A-Za-z0-9_-]{43})$/;

/**
 * The session a cookie names, if it is one made with this token and unexpired: its expiry and
 * its canonical text (what logout revokes and the revocation list is asked about).
 */
export function parseSession(
  value: string | undefined,
  adminToken: string,
  now: number,
): { id: string; expires: number; credential?: string } | null {
  const m = value === undefined ? null : SESSION_FORMAT.exec(value);
  if (!m) return null;
  const expires = Number(m[1]);
  if (!Number.isSafeInteger(expires) || expires <= now) return null;
  const credential = m[2];
  const given = Buffer.from(m[3]!);
  const expected = Buffer.from(mac(adminToken, expires, credential));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return credential === undefined
    ? { id: `${expires}.${m[3]}`, expires }
    : { id: `${expires}.${credential}.${m[3]}`, expires, credential };
}

/** True for an unexpired session made with this token. */
export function validSession(value: string | undefined, adminToken: string, now: number): boolean {
  return parseSession(value, adminToken, now) !== null;
}

/** The Set-Cookie header for a session (or, with null, for clearing it). */
export function sessionCookie(
  value: string | null,
  secure: boolean,
  ttlMs = SESSION_TTL_MS,
): string {
  const attrs = ["Path=/admin", "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])];
  return value === null
    ? `${SESSION_COOKIE}=; Max-Age=0; ${attrs.join("; ")}`
    : `${SESSION_COOKIE}=${value}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attrs.join("; ")}`;
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The key a client's failures are counted under: its address, or for IPv6 its /64 (one
 * subscriber's network: a host that has one address has them all).
 */
export function limiterKey(address: string): string {
  if (!address.includes(":") || address.startsWith("::ffff:")) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [
    ...left,
    ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"),
    ...right,
  ];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * At most `limit` wrong tokens per client per `windowMs`; a success does not reset it. The
 * table holds at most `maxClients`: past that, expired entries go first, and while every entry
 * is live, new clients share one overflow entry. So wrong guesses from many addresses cannot
 * push a blocked client out of the table (and give it fresh guesses); they can only block each
 * other. The right token is checked before this and always works.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private prunedAt = Number.NEGATIVE_INFINITY;
  static readonly OVERFLOW = "(other addresses)";

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly maxClients = 10_000,
  ) {}

  /** Milliseconds until this client may try again, or 0. */
  blockedFor(client: string, now: number): number {
    const recent = this.recent(this.keyOf(client, now), now);
    return recent.length >= this.limit ? recent[0]! + this.windowMs - now : 0;
  }

  /** Counts one wrong token from this client; true if that used up its tries. */
  fail(client: string, now: number): boolean {
    const key = this.keyOf(client, now);
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.set(key, recent);
    return recent.length >= this.limit;
  }

  /** Clients in the table (for tests: it stays bounded). */
  get size(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }

  /** The client's own entry, or the overflow entry when the table is full of live ones. */
  private keyOf(client: string, now: number): string {
    const key = limiterKey(client);
    if (this.failures.has(key) || this.failures.size < this.maxClients) return key;
    if (now - this.prunedAt >= 1000) {
      // At most once a second: a full table is scanned whole.
      this.prunedAt = now;
      for (const [k, times] of this.failures)
        if (times.every((t) => t <= now - this.windowMs)) this.failures.delete(k);
    }
    return this.failures.size < this.maxClients ? key : LoginLimiter.OVERFLOW;
  }
}
