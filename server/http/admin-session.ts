/**
 * Logging in to the admin page: POST the token, get a session cookie (HttpOnly,
 * SameSite=Strict, 12 hours). Failed attempts are limited per client address.
 */
import { Elysia, t } from "elysia";
import { tokenMatches } from "../auth/admin-token.ts";
import { createSession, LoginLimiter, sessionCookie } from "../auth/session.ts";
import { errorResponse } from "../errors.ts";
import { isAdmin } from "./admin-auth.ts";
import { json } from "./json.ts";
import type { PeerAddress } from "./client-ip.ts";

export interface SessionDeps {
  adminToken: string;
  now: () => number;
  peerAddress: PeerAddress;
}

export function adminSessionRoutes(deps: SessionDeps) {
  const limiter = new LoginLimiter();
  return new Elysia({ name: "admin-session", prefix: "/admin/api" })
    .post(
      "/login",
      ({ body, request, server }) => {
        const client = deps.peerAddress(request, server) ?? "unknown";
        const now = deps.now();
        const wait = limiter.blockedFor(client, now);
        if (wait > 0) return errorResponse("rate_limited", [], "Too many failed logins; retry later.", { "retry-after": String(Math.ceil(wait / 1000)) });
        if (!tokenMatches(body.token.trim(), deps.adminToken)) {
          limiter.fail(client, now);
          return errorResponse("invalid_token", [{ path: "/token", code: "invalid_value", message: "That is not the admin token." }]);
        }
        const secure = new URL(request.url).protocol === "https:";
        return new Response(null, { status: 204, headers: { "set-cookie": sessionCookie(createSession(deps.adminToken, now), secure) } });
      },
      { body: t.Object({ token: t.String({ minLength: 1, maxLength: 512 }) }) },
    )
    .post("/logout", () => new Response(null, { status: 204, headers: { "set-cookie": sessionCookie(null, false) } }))
    .get("/session", ({ request }) =>
      isAdmin(request, deps.adminToken, deps.now()) ? json({ authenticated: true }) : errorResponse("unauthorized"),
    );
}
