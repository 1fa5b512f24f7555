/**
 * The admin API's gate, as two hooks that app.ts mounts on the routes the router matched under
 * /admin/api (never on a path this file parses itself: a second reading of the path is what let
 * `Host: x` + `/xx/admin/api/...` through in 0.4.0). Both run before any body is read (app.ts
 * keeps Elysia from parsing admin bodies; handlers read them with readJsonBody):
 *
 * - requireAdmin, on every route but logging in and out: the admin token (bearer) or a live
 *   session. Wrong bearer tokens are limited per client address like wrong logins.
 * - requireAdminOrExport, on the conversion files' routes only: as requireAdmin, or an
 *   account's export credential by HTTP Basic (an ad platform's scheduled fetch). The account
 *   it belongs to is kept for the request (exportScope), and the handler, which alone reads
 *   the query, answers 404 for any other account. Anywhere else such a credential is no admin.
 * - checkRequest, on every route: for changes (any method but GET and HEAD) a body of at most
 *   ADMIN_BODY_LIMIT bytes given with its length, JSON only, and the admin page's own origin, so
 *   a page elsewhere cannot make a logged-in browser change anything.
 *
 * A correct token always works. A wrong one is logged at warn with the address until the
 * address is limited; from then on it is answered 429 and only counted (metrics).
 */
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import {
  createSession,
  LoginLimiter,
  parseSession,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from "../auth/session.ts";
import { errorResponse, type ErrorCode } from "../errors.ts";
import type { RevokedSessions } from "../store/revoked-sessions.ts";
import type { Log } from "../telemetry/log.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { PeerAddress } from "./client-ip.ts";

export interface AdminAuthDeps {
  adminToken: string;
  /** Accounts' export credentials (store/export-credentials.ts). */
  exportCredentials?: { check(username: string, password: string, now: number): string | null };
  revoked: Pick<RevokedSessions, "has" | "revoke">;
  log: Log;
  now: () => number;
  peerAddress: PeerAddress;
  /** Proxies whose X-Forwarded-Proto is believed (trustedProxies): behind TLS there, cookies are Secure. */
  isTrustedProxy: (ip: string) => boolean;
  metrics?: Metrics;
}

/** What a gate hook is given: the request the router matched, and the server it came in on. */
export interface GateContext {
  request: Request;
  server: unknown;
}

/** The largest admin request body: registry edits and logins are small. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

const refuse = (code: ErrorCode, message?: string, headers: Record<string, string> = {}) =>
  errorResponse(code, [], message, headers);

/** User name and password of `Authorization: Basic …`, or null. */
function basicCredentials(header: string | null): { username: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon < 0 ? null : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export class AdminAuth {
  private readonly failures = new LoginLimiter();
  /** Requests let in by an export credential, and the account it is for. */
  private readonly exportScopes = new WeakMap<Request, string>();

  constructor(private readonly deps: AdminAuthDeps) {}

  /** True if the request carries the admin token or a live session. */
  isAdmin(request: Request): boolean {
    const token = bearerToken(request.headers.get("authorization"));
    if (token) return tokenMatches(token, this.deps.adminToken);
    const session = this.session(request);
    return session !== null && !this.deps.revoked.has(session.id);
  }

  /** A beforeHandle hook: a refusal unless the request carries the admin token or a live session. */
  readonly requireAdmin = ({ request, server }: GateContext): Response | undefined => {
    if (this.isAdmin(request)) return undefined;
    if (bearerToken(request.headers.get("authorization")) !== null) {
      const limited = this.failed(this.deps.peerAddress(request, server) ?? "unknown", "bearer");
      if (limited) return limited;
    }
    return refuse("unauthorized", undefined, { "www-authenticate": "Bearer" });
  };

  /**
   * A beforeHandle hook for the conversion files: the admin, or an account's export
   * credential (HTTP Basic), whose account exportScope then gives.
   */
  readonly requireAdminOrExport = ({ request, server }: GateContext): Response | undefined => {
    if (this.isAdmin(request)) return undefined;
    const basic = basicCredentials(request.headers.get("authorization"));
    if (basic === null) return this.requireAdmin({ request, server });
    const accountId = this.deps.exportCredentials?.check(
      basic.username,
      basic.password,
      this.deps.now(),
    );
    if (accountId) {
      this.exportScopes.set(request, accountId);
      return undefined;
    }
    const limited = this.failed(this.deps.peerAddress(request, server) ?? "unknown", "basic");
    return (
      limited ??
      refuse("unauthorized", undefined, { "www-authenticate": 'Basic realm="trackd conversions"' })
    );
  };

  /** The account an export credential let this request in for; undefined for the admin. */
  exportScope(request: Request): string | undefined {
    return this.exportScopes.get(request);
  }

  /** A beforeHandle hook: a refusal for a change that is too large, not JSON, or from another origin. */
  readonly checkRequest = ({ request }: GateContext) => this.checkChange(request, false);

  /** checkRequest for logging in and out, which API clients may do without an Origin. */
  readonly checkPublicRequest = ({ request }: GateContext) => this.checkChange(request, true);

  private checkChange(request: Request, isPublic: boolean): Response | undefined {
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
    if (!this.sameOrigin(request, isPublic)) return refuse("cross_origin_request");
    return undefined;
  }

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
    const session = this.session(request);
    if (session) await this.deps.revoked.revoke(session.id, session.expires);
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

  /** The session the request's cookie names, if it is a valid one (revoked or not). */
  private session(request: Request) {
    const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
    return parseSession(cookie, this.deps.adminToken, this.deps.now());
  }

  /** Counts a wrong token from `client` and logs it; a 429 once the client has had too many. */
  private failed(client: string, via: "login" | "bearer" | "basic"): Response | undefined {
    const now = this.deps.now();
    const wait = this.failures.blockedFor(client, now);
    if (wait > 0) {
      this.deps.metrics?.adminAuthFailures.inc({ via, result: "limited" });
      return refuse("rate_limited", "Too many wrong admin tokens from this address; retry later.", {
        "retry-after": String(Math.ceil(wait / 1000)),
      });
    }
    this.deps.metrics?.adminAuthFailures.inc({ via, result: "refused" });
    const limitedNow = this.failures.fail(client, now);
    this.deps.log.warn("admin authentication failed", {
      ip: client,
      via,
      ...(limitedNow && { limited: "further wrong tokens from here are answered 429 and counted" }),
    });
    return undefined;
  }

  /**
   * A change must come from the admin page itself: an Origin of this host. Browsers send Origin
   * with every change, so none means an API client: fine with a bearer token, or to log in or out.
   */
  private sameOrigin(request: Request, isPublic: boolean): boolean {
    const origin = request.headers.get("origin");
    if (origin === null)
      return isPublic || bearerToken(request.headers.get("authorization")) !== null;
    try {
      return new URL(origin).host === request.headers.get("host");
    } catch {
      return false;
    }
  }
}
