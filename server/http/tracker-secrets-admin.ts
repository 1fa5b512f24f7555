/**
 * A tracker's secrets for signed server events (store/tracker-secrets.ts), by the admin only:
 * POST /admin/api/registry/trackers/{aid}/{tid}/secrets makes one (201, the secret shown this
 * once; at most two live, so one can be rotated), GET lists them (never the secret), DELETE
 * .../secrets/{id} retires one. The tracker's `serverAuth` (registry-admin.ts) says whether
 * its server events must use them.
 */
import { Elysia } from "elysia";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { Registry } from "../registry/registry.ts";
import { MAX_SECRETS, type TrackerSecrets } from "../store/tracker-secrets.ts";
import { withQuery } from "./admin-input.ts";
import { NoQuery, type WithParams } from "./admin.model.ts";
import { json } from "./json.ts";
import { pathParams } from "./params.ts";

const notFound = (message: string) =>
  errorResponse("not_found", [{ path: "", code: "invalid_value", message }], message);

export function trackerSecretRoutes(deps: {
  registry: Registry;
  secrets: TrackerSecrets;
  now: () => number;
}) {
  /** A route on a registered tracker: its normalized IDs, or 400/404. */
  const route = (
    handle: (accountId: string, trackerId: string, params: Record<string, string>) => unknown,
  ) =>
    withQuery(NoQuery, async (_, { params: raw }: WithParams) => {
      const params = pathParams(raw);
      const accountId = parsePathId(params.accountId ?? "");
      const trackerId = parsePathId(params.id ?? "");
      const details: ErrorDetail[] = [];
      if (accountId === null)
        details.push({ path: "accountId", code: "invalid_id", message: "Not an account ID." });
      if (trackerId === null)
        details.push({ path: "id", code: "invalid_id", message: "Not a tracker ID." });
      if (accountId === null || trackerId === null) return errorResponse("invalid_id", details);
      if (!deps.registry.tracker(accountId, trackerId))
        return notFound(`No tracker ${trackerId} under account ${accountId}.`);
      return (await handle(accountId, trackerId, params)) as Response;
    });
  const path = "/registry/trackers/:accountId/:id/secrets";
  return new Elysia({ name: "tracker-secrets-admin" })
    .post(
      path,
      route(async (accountId, trackerId) => {
        const made = await deps.secrets.create(accountId, trackerId, deps.now());
        if (made) return json({ accountId, trackerId, ...made }, 201);
        return errorResponse("too_many_secrets", [
          {
            path: "",
            code: "invalid_value",
            message: `This tracker has ${MAX_SECRETS} secrets: retire the old one before making another.`,
          },
        ]);
      }),
    )
    .get(
      path,
      route((accountId, trackerId) => json(deps.secrets.list(accountId, trackerId))),
    )
    .delete(
      `${path}/:secretId`,
      route(async (accountId, trackerId, params) =>
        (await deps.secrets.remove(accountId, trackerId, params.secretId ?? ""))
          ? new Response(null, { status: 204 })
          : notFound("This tracker has no secret with that ID."),
      ),
    );
}
