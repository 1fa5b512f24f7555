/** The admin check shared by every /admin/api route group: a bearer token or a session cookie. */
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import { readCookie, SESSION_COOKIE, validSession } from "../auth/session.ts";
import { errorResponse } from "../errors.ts";

/** True if the request carries the admin token or a valid session. */
export function isAdmin(request: Request, adminToken: string, now: number = Date.now()): boolean {
  const token = bearerToken(request.headers.get("authorization"));
  if (token) return tokenMatches(token, adminToken);
  return validSession(readCookie(request.headers.get("cookie"), SESSION_COOKIE), adminToken, now);
}

/** An Elysia beforeHandle hook: 401 in the error envelope unless the request is the admin's. */
export function requireAdmin(adminToken: string) {
  return ({ request }: { request: Request }) => {
    if (!isAdmin(request, adminToken)) return errorResponse("unauthorized", [], undefined, { "www-authenticate": "Bearer" });
  };
}
