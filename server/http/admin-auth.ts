/**
 * The one gate in front of the admin API (/admin/api/*), run on each request before Elysia
 * reads its body: the admin token (bearer) or a live session first, then a body limit, then,
 * for changes (any method but GET and HEAD), JSON only and the admin page's own origin, so a
 * page elsewhere cannot make a logged-in browser change anything. A correct token always
 * works; wrong ones (at login or as a bearer) are limited per client address and logged at
 * warn with the address.
 */
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import {
  createSession,
  LoginLimiter,
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookie,
  validSession,
} from "../auth/session.ts";
import { errorResponse, type ErrorCode } from "../errors.ts";
import type { RevokedSessions } from "../store/revoked-sessions.ts";
import type { Log } from "../telemetry/log.ts";
import type { PeerAddress } from "./client-ip.ts";

export interface AdminAuthDeps {
  adminToken: string;
  revoked: Pick<RevokedSessions, "has" | "revoke">;
  log: Log;
  now: () => number;
  peerAddress: PeerAddress;
  /** Proxies whose X-Forwarded-Proto is believed (trustedProxies): behind TLS there, cookies are Secure. */
  isTrustedProxy: (ip: string) => boolean;
}

const PREFIX = "/admin/api/";
/** Routes that work without being logged in: logging in and out, and asking whether one is. */
const PUBLIC = new Set(["/admin/api/login", "/admin/api/logout", "/admin/api/session"]);
/** The largest admin request body: registry edits and logins are small. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

const refuse = (code: ErrorCode, message?: string, headers: Record<string, string> = {}) =>
  errorResponse(code, [], message, headers);

export class AdminAuth {
  private readonly failures = new LoginLimiter();

  constructor(private readonly deps: AdminAuthDeps) {}

  /** True if the request carries the admin token or a live session. */
  isAdmin(request: Request): boolean {
    const token = bearerToken(request.headers.get("authorization"));
    if (token) return tokenMatches(token, this.deps.adminToken);
    const session = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
    return (
      validSession(session, this.deps.adminToken, this.deps.now()) &&
      !this.deps.revoked.has(session!)
    );
  }

  /** The Elysia onRequest hook: a refusal, or undefined to let the request through. */
  readonly guard = ({
    request,
    server,
  }: {
    request: Request;
    server: unknown;
  }): Response | undefined => {
    if (!request.url.includes(PREFIX)) return undefined; // most requests: no URL parsing
    const path = new URL(request.url).pathname;
    if (!path.startsWith(PREFIX)) return undefined;
    if (!PUBLIC.has(path)) {
      const refused = this.authenticate(request, server);
      if (refused) return refused;
    }
    if (request.method === "GET" || request.method === "HEAD") return undefined;
    const length = request.headers.get("content-length");
    if (length === null && request.headers.has("transfer-encoding"))
      return refuse("length_required");
    if (Number(length ?? 0) > ADMIN_BODY_LIMIT)
      return refuse("payload_too_large", `Admin requests take at most ${ADMIN_BODY_LIMIT} bytes.`);
    if (
      Number(length ?? 0) > 0 &&
      !/^application\/json\s*(;|$)/i.test(request.headers.get("content-type") ?? "")
    )
      return refuse("json_required");
    if (!this.sameOrigin(request, path)) return refuse("cross_origin_request");
    return undefined;
  };

  /** POST /admin/api/login: a session cookie for the right token. */
  login(request: Request, server: unknown, token: string): Response {
    const client = this.deps.peerAddress(request, server) ?? "unknown";
    const now = this.deps.now();
    if (tokenMatches(token, this.deps.adminToken))
      return new Response(null, {
        status: 204,
        headers: {
          "set-cookie": sessionCookie(
            createSession(this.deps.adminToken, now),
            this.overTls(request, server),
          ),
        },
      });
    return (
      this.failed(client, "login") ??
      errorResponse("invalid_token", [
        { path: "/token", code: "invalid_value", message: "That is not the admin token." },
      ])
    );
  }

  /** POST /admin/api/logout: ends the session for good (not only in this browser). */
  async logout(request: Request, server: unknown): Promise<Response> {
    const session = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
    if (session && validSession(session, this.deps.adminToken, this.deps.now()))
      await this.deps.revoked.revoke(session, this.deps.now() + SESSION_TTL_MS);
    return new Response(null, {
      status: 204,
      headers: { "set-cookie": sessionCookie(null, this.overTls(request, server)) },
    });
  }

  /** True if the browser reached trackd over TLS: directly, or through a trusted proxy that says so. */
  private overTls(request: Request, server: unknown): boolean {
    if (new URL(request.url).protocol === "https:") return true;
    const peer = this.deps.peerAddress(request, server);
    return (
      peer !== null &&
      this.deps.isTrustedProxy(peer) &&
      request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https"
    );
  }

  private authenticate(request: Request, server: unknown): Response | undefined {
    if (this.isAdmin(request)) return undefined;
    if (bearerToken(request.headers.get("authorization")) !== null) {
      const limited = this.failed(this.deps.peerAddress(request, server) ?? "unknown", "bearer");
      if (limited) return limited;
    }
    return refuse("unauthorized", undefined, { "www-authenticate": "Bearer" });
  }

  /** Counts a wrong token from `client` and logs it; a 429 once the client has had too many. */
  private failed(client: string, via: "login" | "bearer"): Response | undefined {
    const now = this.deps.now();
    this.deps.log.warn("admin authentication failed", { ip: client, via });
    const wait = this.failures.blockedFor(client, now);
    if (wait > 0)
      return refuse("rate_limited", "Too many wrong admin tokens from this address; retry later.", {
        "retry-after": String(Math.ceil(wait / 1000)),
      });
    this.failures.fail(client, now);
    return undefined;
  }

  /**
   * A change must come from the admin page itself: an Origin of this host. Browsers send Origin
   * with every change, so none means an API client: fine with a bearer token, or to log in or out.
   */
  private sameOrigin(request: Request, path: string): boolean {
    const origin = request.headers.get("origin");
    if (origin === null)
      return PUBLIC.has(path) || bearerToken(request.headers.get("authorization")) !== null;
    try {
      return new URL(origin).host === request.headers.get("host");
    } catch {
      return false;
    }
  }
}
