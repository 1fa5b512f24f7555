/**
 * Named admin credentials (store/admin-credentials.ts) and the access log (store/access-log.ts),
 * the owner's alone (and admin credentials for every account; admin-access.ts lists neither
 * route, so no other credential gets past the gate):
 *
 * - POST /admin/api/credentials {"name", "role": "admin"|"read"|"export", "accounts": [...]|null}
 *   makes one: 201 with its token, shown this once.
 * - GET /admin/api/credentials lists them (never a token); DELETE .../{id} revokes one at once.
 * - GET /admin/api/access-log?limit=&before= lists who read what, newest first.
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { Registry } from "../registry/registry.ts";
import type { AccessLog } from "../store/access-log.ts";
import type { AdminCredentials } from "../store/admin-credentials.ts";
import { readJsonBody, withQuery } from "./admin-input.ts";
import { NoQuery, type WithParams } from "./admin.model.ts";
import { json } from "./json.ts";
import { pathParams } from "./params.ts";

const CredentialBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 200 }),
    role: t.Union([t.Literal("admin"), t.Literal("read"), t.Literal("export")]),
    /** The accounts it may see; null or left out: every account. */
    accounts: t.Optional(
      t.Union([
        t.Array(t.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 }),
        t.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);

const AccessLogQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000 })),
  before: t.Optional(t.String({ maxLength: 64 })),
});

export function credentialsAdminRoutes(deps: {
  credentials: AdminCredentials;
  accessLog: AccessLog;
  registry: Registry;
  /** Every account that has sent an event: as real to a credential as a registered one. */
  seenAccounts: () => string[];
  now: () => number;
}) {
  return new Elysia({ name: "credentials-admin" })
    .post(
      "/credentials",
      withQuery(NoQuery, async (_, { request }) => {
        const body = await readJsonBody(CredentialBody, request);
        if (body instanceof Response) return body;
        const problems: ErrorDetail[] = [];
        const accounts = (body.accounts ?? null)?.map((raw, i) => {
          const id = parsePathId(raw.trim());
          if (id === null || (!deps.registry.account(id) && !deps.seenAccounts().includes(id)))
            problems.push({
              path: `/accounts/${i}`,
              code: id === null ? "invalid_id" : "unregistered",
              message:
                id === null
                  ? `${JSON.stringify(raw)} is not an account ID (a positive integer or a UUID).`
                  : `No account ${id} is registered or has sent an event: register it first (Registry).`,
            });
          return id ?? raw;
        });
        if (problems.length > 0) return errorResponse("invalid_request", problems);
        const made = await deps.credentials.create(
          {
            name: body.name.trim(),
            role: body.role,
            accounts: accounts ? [...new Set(accounts)] : null,
          },
          deps.now(),
        );
        return json({ ...made.credential, token: made.token }, 201);
      }),
    )
    .get(
      "/credentials",
      withQuery(NoQuery, () => json(deps.credentials.list())),
    )
    .delete(
      "/credentials/:id",
      withQuery(NoQuery, async (_, { params }: WithParams) =>
        (await deps.credentials.remove(pathParams(params).id ?? ""))
          ? new Response(null, { status: 204 })
          : errorResponse("not_found", [
              { path: "id", code: "invalid_value", message: "No credential has this ID." },
            ]),
      ),
    )
    .get(
      "/access-log",
      withQuery(AccessLogQuery, (query) => {
        const limit = query.limit ?? 100;
        const entries = deps.accessLog.list(limit, query.before);
        return json({
          entries,
          next: entries.length === limit ? entries[entries.length - 1]!.id : null,
        });
      }),
    );
}
