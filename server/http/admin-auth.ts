/**
 * The admin API's gate, as hooks that app.ts mounts on the routes the router matched under
 * /admin/api (never on a path this file parses itself: a second reading of the path is what let
 * `Host: x` + `/xx/admin/api/...` through in 0.4.0). They run before any body is read (app.ts
 * keeps Elysia from parsing admin bodies; handlers read them with readJsonBody):
 *
 * - requireAdmin, on every route but logging in and out: who the request acts as
 *   (auth/principal.ts): the owner (the admin token as a bearer, or a session made with it), a
 *   named credential (its token as a bearer, or a session made with it), or, on the conversion
 *   files only, an account's export credential by HTTP Basic. Then what that principal may do
 *   on the route the router matched (admin-access.ts): a role that may not is 403 `forbidden`;
 *   a route outside its accounts is 404. The principal is kept for the request, so the route's
 *   own reading of its query and parameters (admin-input.ts) checks the account it names.
 *   Reads of shoppers' and leads' data are written to the access log. Wrong tokens are limited
 *   per client address like wrong logins.
 * - checkRequest, on every route: for changes (any method but GET and HEAD) a body of at most
 *   ADMIN_BODY_LIMIT bytes given with its length, JSON only, and the admin page's own origin, so
 *   a page elsewhere cannot make a logged-in browser change anything.
 *
 * A correct token always works. A wrong one is logged at warn with the address until the
 * address is limited; from then on it is answered 429 and only counted (metrics).
 */
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import { OWNER, type Principal } from "../auth/principal.ts";
import {
  createSession,
  LoginLimiter,
  parseSession,
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookie,
} from "../auth/session.ts";
import { errorResponse, type ErrorCode } from "../errors.ts";
import type { AccessLog } from "../store/access-log.ts";
import type { AdminCredentials } from "../store/admin-credentials.ts";
import type { RevokedSessions } from "../store/revoked-sessions.ts";
import type { Log } from "../telemetry/log.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import { accessOf, admit, refusalFor } from "./admin-access.ts";
import type { PeerAddress } from "./client-ip.ts";

export interface AdminAuthDeps {
  adminToken: string;
  /** Accounts' export credentials (store/export-credentials.ts). */
  exportCredentials?: { check(username: string, password: string, now: number): string | null };
  /** Named admin credentials (store/admin-credentials.ts). */
  credentials?: Pick<AdminCredentials, "check" | "byId">;
  accessLog?: Pick<AccessLog, "record">;
  revoked: Pick<RevokedSessions, "has" | "revoke">;
  log: Log;
  now: () => number;
  peerAddress: PeerAddress;
  /** Proxies whose X-Forwarded-Proto is believed (trustedProxies): behind TLS there, cookies are Secure. */
  isTrustedProxy: (ip: string) => boolean;
  metrics?: Metrics;
}

/** What a gate hook is given: the request the router matched, its route, and the server it came in on. */
export interface GateContext {
  request: Request;
  server: unknown;
  /** The route's pattern as the router matched it (Elysia's context.route). */
  route?: string;
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

/** The principal of an account's export credential: its conversion files, nothing else. */
const exportPrincipal = (accountId: string): Principal => ({
  id: `export-${accountId}`,
  name: `export credential of account ${accountId}`,
  role: "export",
  accounts: new Set([accountId]),
});

export class AdminAuth {
  private readonly failures = new LoginLimiter();

  constructor(private readonly deps: AdminAuthDeps) {}

  /**
   * Who the request acts as, by its bearer token or session (or, where `basic`, an export
   * credential), or null. `offered`: what it offered, so a wrong one is counted.
   */
  private principal(
    request: Request,
    basic: boolean,
  ): { principal: Principal | null; offered: "bearer" | "basic" | null } {
    const header = request.headers.get("authorization");
    const token = bearerToken(header);
    const now = this.deps.now();
    if (token !== null) {
      if (tokenMatches(token, this.deps.adminToken)) return { principal: OWNER, offered: "bearer" };
      return { principal: this.deps.credentials?.check(token, now) ?? null, offered: "bearer" };
    }
    const credentials = basic ? basicCredentials(header) : null;
    if (credentials !== null) {
      const accountId = this.deps.exportCredentials?.check(
        credentials.username,
        credentials.password,
        now,
      );
      return { principal: accountId ? exportPrincipal(accountId) : null, offered: "basic" };
    }
    return { principal: this.sessionPrincipal(request), offered: null };
  }

  /** Who the request acts as by its bearer token or session (GET /admin/api/session), or null. */
  whoIs(request: Request): Principal | null {
    return this.principal(request, false).principal;
  }

  /** The principal of the request's live session, or null. */
  private sessionPrincipal(request: Request): Principal | null {
    const session = this.session(request);
    if (session === null || this.deps.revoked.has(session.id)) return null;
    if (session.credential === undefined) return OWNER;
    return this.deps.credentials?.byId(session.credential, this.deps.now()) ?? null;
  }

  /**
   * A beforeHandle hook: who the request acts as, and whether that may use the route the
   * router matched (admin-access.ts); a refusal, or undefined with the principal kept.
   */
  readonly requireAdmin = ({ request, server, route }: GateContext): Response | undefined => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const access = accessOf(method, route ?? "");
    const { principal, offered } = this.principal(request, access?.basic === true);
    if (principal === null) {
      if (offered !== null) {
        const limited = this.failed(this.deps.peerAddress(request, server) ?? "unknown", offered);
        if (limited) return limited;
      }
      return refuse("unauthorized", undefined, {
        "www-authenticate": access?.basic ? 'Bearer, Basic realm="trackd conversions"' : "Bearer",
      });
    }
    const refusal = refusalFor(principal, access);
    if (refusal === "role")
      return refuse(
        "forbidden",
        `This credential (${principal.role}) may not ${access?.needs === "change" ? "change anything" : "use this route"}.`,
      );
    if (refusal === "scope") return errorResponse("not_found");
    admit(request, principal, access);
    if (access?.logged) {
      const url = request.url;
      const now = this.deps.now();
      this.deps.accessLog?.record(
        {
          at: new Date(now).toISOString(),
          who: { id: principal.id, name: principal.name, role: principal.role },
          method,
          route: route ?? "",
          target: url.slice(url.indexOf("/", url.indexOf("//") + 2)).slice(0, 2048),
        },
        now,
      );
    }
    return undefined;
  };

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

  /** POST /admin/api/login: a session cookie for the admin token or a named credential's. */
  login(request: Request, server: unknown, token: string): Response {
    const client = this.deps.peerAddress(request, server) ?? "unknown";
    const now = this.deps.now();
    const principal = tokenMatches(token, this.deps.adminToken)
      ? OWNER
      : this.deps.credentials?.check(token, now);
    if (principal)
      return new Response(null, {
        status: 204,
        headers: {
          "set-cookie": sessionCookie(
            createSession(
              this.deps.adminToken,
              now,
              SESSION_TTL_MS,
              principal === OWNER ? undefined : principal.id,
            ),
            this.overTls(request, server),
          ),
        },
      });
    return (
      this.failed(client, "login") ??
      errorResponse("invalid_token", [
        {
          path: "/token",
          code: "invalid_value",
          message: "That is not the admin token or a credential's token.",
        },
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
