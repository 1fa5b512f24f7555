/**
 * Logging in to the admin page: POST the token, get a session cookie (HttpOnly,
 * SameSite=Strict, 12 hours); logging out ends the session on the server. The checks
 * (limits, origin, failed attempts) are AdminAuth's.
 */
import { Elysia, t } from "elysia";
import { errorResponse } from "../errors.ts";
import type { AdminAuth } from "./admin-auth.ts";
import { json } from "./json.ts";

export function adminSessionRoutes(auth: AdminAuth) {
  return new Elysia({ name: "admin-session" })
    .post("/login", ({ body, request, server }) => auth.login(request, server, body.token.trim()), {
      body: t.Object({ token: t.String({ minLength: 1, maxLength: 512 }) }),
    })
    .post("/logout", ({ request, server }) => auth.logout(request, server))
    .get("/session", ({ request }) =>
      auth.isAdmin(request) ? json({ authenticated: true }) : errorResponse("unauthorized"),
    );
}
