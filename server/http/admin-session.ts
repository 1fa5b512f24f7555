/**
 * Logging in to the admin page: POST the token, get a session cookie (HttpOnly,
 * SameSite=Strict, 12 hours); logging out ends the session on the server. The checks
 * (limits, origin, failed attempts) are AdminAuth's.
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { errorResponse } from "../errors.ts";
import type { AdminAuth } from "./admin-auth.ts";
import { json } from "./json.ts";
import { readJsonBody, withQuery } from "./admin-input.ts";
import { NoQuery } from "./admin.model.ts";

const LoginBody = t.Object({ token: t.String({ minLength: 1, maxLength: 512 }) });

export function adminSessionRoutes(auth: AdminAuth) {
  return new Elysia({ name: "admin-session" })
    .post(
      "/login",
      withQuery(NoQuery, async (_, { request, server }: { request: Request; server: unknown }) => {
        const body = await readJsonBody(LoginBody, request);
        return body instanceof Response ? body : auth.login(request, server, body.token.trim());
      }),
    )
    .post(
      "/logout",
      withQuery(NoQuery, (_, { request, server }: { request: Request; server: unknown }) =>
        auth.logout(request, server),
      ),
    )
    .get(
      "/session",
      withQuery(NoQuery, (_, { request }) => {
        // Who the page acts as: it shows a credential's name and keeps to its accounts.
        const p = auth.whoIs(request);
        return p
          ? json({
              authenticated: true,
              name: p.name,
              role: p.role,
              accounts: p.accounts === null ? null : [...p.accounts],
            })
          : errorResponse("unauthorized");
      }),
    );
}
