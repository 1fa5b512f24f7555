/** Editing the registry (accounts, trackers, vendors) from the admin page. PUT creates or renames. */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import {
  IpPolicySchema,
  OriginSchema,
  ServerAuthSchema,
  UnverifiedSchema,
} from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { Registry } from "../registry/registry.ts";
import type { TrackerSecrets } from "../store/tracker-secrets.ts";
import { pathParams } from "./params.ts";
import { json } from "./json.ts";
import { readJsonBody, withQuery } from "./admin-input.ts";
import { maySee } from "./admin-access.ts";
import { NoQuery, type WithParams } from "./admin.model.ts";

const Name = t.String({ minLength: 1, maxLength: 200 });

const AccountBody = t.Object({
  name: Name,
  type: t.Optional(t.Union([t.Literal("dealership"), t.Literal("vendor")])),
  /** Replaces the account's placeholder identifiers; left out, they are kept. */
  junkIdentifiers: t.Optional(
    t.Array(t.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 }),
  ),
});
const TrackerBody = t.Object({
  name: Name,
  allowedOrigins: t.Optional(t.Array(OriginSchema, { maxItems: 50 })),
  /** Left out, the tracker's setting is kept (renaming a tracker never loosens it). */
  serverAuth: t.Optional(ServerAuthSchema),
  unverified: t.Optional(UnverifiedSchema),
  /** What is kept of its clients' addresses; "default" follows pii.ip; left out, kept. */
  ip: t.Optional(t.Union([t.Literal("default"), ...IpPolicySchema.anyOf])),
});
const VendorBody = t.Object({
  products: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
});

/** A registry route: no query parameters, the path's parameters, and for PUT the body read after the gate. */
const route = (handle: (context: WithParams) => Response | Promise<Response>) =>
  withQuery(NoQuery, (_, context: WithParams) => handle(context));

/** Normalized IDs, or an invalid_id response naming the bad ones. */
function ids(raw: Record<string, string>): Record<string, string> | Response {
  const out: Record<string, string> = {};
  const details: ErrorDetail[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const id = parsePathId(v);
    if (id === null)
      details.push({
        path: k,
        code: "invalid_id",
        message: `${k} must be a positive integer or a UUID.`,
      });
    else out[k] = id;
  }
  return details.length ? errorResponse("invalid_id", details) : out;
}

const missing = (what: string) =>
  errorResponse(
    "not_found",
    [{ path: "", code: "invalid_value", message: `No such ${what}.` }],
    `No such ${what}.`,
  );

export function registryAdminRoutes(deps: {
  registry: Registry;
  secrets: Pick<TrackerSecrets, "list" | "removeAll">;
}) {
  const { registry, secrets } = deps;
  return new Elysia({ name: "registry-admin", prefix: "/registry" })
    .get(
      "/",
      route(({ request }) => {
        const list = registry.list();
        // A credential limited to accounts sees only theirs (vendors are everyone's).
        const seen = (accountId: string) => maySee(request, accountId);
        // Each tracker with its secrets (IDs and dates only), for the page's rotation.
        const trackers = list.trackers
          .filter((t) => seen(t.accountId))
          .map((t) => ({ ...t, secrets: secrets.list(t.accountId, t.id) }));
        return json({ ...list, accounts: list.accounts.filter((a) => seen(a.id)), trackers });
      }),
    )
    .put(
      "/accounts/:id",
      route(async ({ params: raw, request }) => {
        const body = await readJsonBody(AccountBody, request);
        if (body instanceof Response) return body;
        const params = pathParams(raw);
        const r = ids({ id: params.id! });
        if (r instanceof Response) return r;
        const junk = body.junkIdentifiers ?? registry.account(r.id!)?.junkIdentifiers;
        await registry.putAccount({
          id: r.id!,
          name: body.name,
          type: body.type ?? "dealership",
          ...(junk && junk.length > 0 ? { junkIdentifiers: junk } : {}),
        });
        return json(registry.account(r.id!));
      }),
    )
    .delete(
      "/accounts/:id",
      route(async ({ params }) => {
        const id = pathParams(params).id!.toLowerCase();
        const trackers = registry.list().trackers.filter((t) => t.accountId === id);
        if (!(await registry.deleteAccount(id))) return missing("account");
        for (const t of trackers) await secrets.removeAll(id, t.id);
        return new Response(null, { status: 204 });
      }),
    )
    .put(
      "/trackers/:accountId/:id",
      route(async ({ params: raw, request }) => {
        const body = await readJsonBody(TrackerBody, request);
        if (body instanceof Response) return body;
        const params = pathParams(raw);
        const r = ids({ accountId: params.accountId!, id: params.id! });
        if (r instanceof Response) return r;
        if (!registry.account(r.accountId!))
          return errorResponse("unregistered_id", [
            {
              path: "accountId",
              code: "unregistered",
              message: `Register account ${r.accountId} first.`,
            },
          ]);
        const before = registry.tracker(r.accountId!, r.id!);
        const serverAuth = body.serverAuth ?? before?.serverAuth;
        const unverified = body.unverified ?? before?.unverified;
        const ip = body.ip === "default" ? undefined : (body.ip ?? before?.ip);
        await registry.putTracker({
          id: r.id!,
          accountId: r.accountId!,
          name: body.name,
          allowedOrigins: body.allowedOrigins ?? [],
          ...(serverAuth && serverAuth !== "none" && { serverAuth }),
          ...(unverified && unverified !== "refuse" && { unverified }),
          ...(ip && { ip }),
        });
        return json(registry.tracker(r.accountId!, r.id!));
      }),
    )
    .delete(
      "/trackers/:accountId/:id",
      route(async ({ params: raw }) => {
        const params = pathParams(raw);
        const [accountId, trackerId] = [params.accountId!.toLowerCase(), params.id!.toLowerCase()];
        if (!(await registry.deleteTracker(accountId, trackerId))) return missing("tracker");
        await secrets.removeAll(accountId, trackerId);
        return new Response(null, { status: 204 });
      }),
    )
    .put(
      "/vendors/:name",
      route(async ({ params: raw, request }) => {
        const body = await readJsonBody(VendorBody, request);
        if (body instanceof Response) return body;
        const params = pathParams(raw);
        if (
          params.name!.trim().length > 200 ||
          !params.name!.trim() ||
          params.name!.includes("\uFFFD")
        )
          return errorResponse("invalid_request", [
            {
              path: "name",
              code: "invalid_value",
              message: "A vendor name has 1 to 200 characters.",
            },
          ]);
        await registry.putVendor({ name: params.name!.trim(), products: body.products ?? [] });
        return json({ name: params.name!.trim(), products: body.products ?? [] });
      }),
    )
    .delete(
      "/vendors/:name",
      route(async ({ params: raw }) => {
        const params = pathParams(raw);
        return params.name!.length <= 200 && (await registry.deleteVendor(params.name!))
          ? new Response(null, { status: 204 })
          : missing("vendor");
      }),
    );
}
