/**
 * Admin sessions without server-side state: the cookie holds an expiry and an HMAC of it keyed
 * by the admin token, so it survives restarts and dies when the token changes. Failed logins
 * are limited per client address.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "trackd_session";
export const SESSION_TTL_MS = 12 * 3600_000;

const mac = (adminToken: string, expires: number) =>
  createHmac("sha256", adminToken).update(`trackd-session:${expires}`).digest("base64url");

/** A new session value valid until now + ttl. */
export function createSession(adminToken: string, now: number, ttlMs = SESSION_TTL_MS): string {
  const expires = now + ttlMs;
  return `${expires}.${mac(adminToken, expires)}`;
}

/** True for an unexpired session made with this token. */
export function validSession(value: string | undefined, adminToken: string, now: number): boolean {
  if (!value) return false;
  const dot = value.indexOf(".");
  const expires = Number(value.slice(0, dot));
  if (dot < 1 || !Number.isFinite(expires) || expires <= now) return false;
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(mac(adminToken, expires));
  return given.length === expected.length && timingSafeEqual(given, expected);
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

/** At most `limit` failed logins per client per `windowMs`; a success does not reset it. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
  ) {}

  /** Milliseconds until this client may try again, or 0. */
  blockedFor(client: string, now: number): number {
    const recent = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    this.failures.set(client, recent);
    return recent.length >= this.limit ? recent[0]! + this.windowMs - now : 0;
  }

  fail(client: string, now: number): void {
    const list = this.failures.get(client) ?? [];
    list.push(now);
    this.failures.set(client, list);
    if (this.failures.size > 10000) this.failures.delete(this.failures.keys().next().value!); // bounded
  }
}
