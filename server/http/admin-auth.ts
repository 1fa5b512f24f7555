/** The admin token check shared by every /admin/api route group. */
import { bearerToken, tokenMatches } from "../auth/admin-token.ts";
import { errorResponse } from "../errors.ts";

/** An Elysia beforeHandle hook: 401 in the error envelope unless `Authorization: Bearer <token>` matches. */
export function requireAdmin(adminToken: string) {
  return ({ request }: { request: Request }) => {
    const token = bearerToken(request.headers.get("authorization"));
    if (!token || !tokenMatches(token, adminToken)) return errorResponse("unauthorized", [], undefined, { "www-authenticate": "Bearer" });
  };
}
