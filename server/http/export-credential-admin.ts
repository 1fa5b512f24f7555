/**
 * An account's export credential (store/export-credentials.ts), by the admin only:
 * POST /admin/api/registry/accounts/{id}/export-credential makes one (201, the password shown
 * this once; a new one replaces the old), GET shows its user name and last use, DELETE ends it.
 */
import { Elysia } from "elysia";
import { errorResponse } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { ExportCredentials } from "../store/export-credentials.ts";
import { withQuery } from "./admin-input.ts";
import { NoQuery, type WithParams } from "./admin.model.ts";
import { json } from "./json.ts";
import { pathParams } from "./params.ts";

const badId = () =>
  errorResponse("invalid_id", [
    { path: "id", code: "invalid_id", message: "id must be a positive integer or a UUID." },
  ]);
const none = () =>
  errorResponse("not_found", [
    { path: "", code: "invalid_value", message: "This account has no export credential." },
  ]);

export function exportCredentialRoutes(deps: {
  credentials: ExportCredentials;
  now: () => number;
}) {
  const route = (handle: (accountId: string) => Response | Promise<Response>) =>
    withQuery(NoQuery, (_, { params }: WithParams) => {
      const accountId = parsePathId(pathParams(params).id ?? "");
      return accountId === null ? badId() : handle(accountId);
    });
  const path = "/registry/accounts/:id/export-credential";
  return new Elysia({ name: "export-credential-admin" })
    .post(
      path,
      route(async (accountId) =>
        json({ accountId, ...(await deps.credentials.create(accountId, deps.now())) }, 201),
      ),
    )
    .get(
      path,
      route((accountId) => {
        const info = deps.credentials.info(accountId);
        return info ? json({ accountId, ...info }) : none();
      }),
    )
    .delete(
      path,
      route(async (accountId) =>
        (await deps.credentials.remove(accountId)) ? new Response(null, { status: 204 }) : none(),
      ),
    );
}
