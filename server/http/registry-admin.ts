/** Editing the registry (accounts, trackers, vendors) from the admin page. PUT creates or renames. */
import { Elysia, t } from "elysia";
import { OriginSchema } from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import type { Registry } from "../registry/registry.ts";
import { pathParams } from "./params.ts";
import { json } from "./json.ts";

const Name = t.String({ minLength: 1, maxLength: 200 });

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

export function registryAdminRoutes(deps: { registry: Registry }) {
  const { registry } = deps;
  return new Elysia({ name: "registry-admin", prefix: "/registry" })
    .get("/", () => json(registry.list()))
    .put(
      "/accounts/:id",
      async ({ params: raw, body }) => {
        const params = pathParams(raw);
        const r = ids({ id: params.id });
        if (r instanceof Response) return r;
        await registry.putAccount({ id: r.id!, name: body.name, type: body.type ?? "dealership" });
        return json(registry.account(r.id!));
      },
      {
        body: t.Object({
          name: Name,
          type: t.Optional(t.Union([t.Literal("dealership"), t.Literal("vendor")])),
        }),
      },
    )
    .delete("/accounts/:id", async ({ params }) =>
      (await registry.deleteAccount(pathParams(params).id.toLowerCase()))
        ? new Response(null, { status: 204 })
        : missing("account"),
    )
    .put(
      "/trackers/:accountId/:id",
      async ({ params: raw, body }) => {
        const params = pathParams(raw);
        const r = ids({ accountId: params.accountId, id: params.id });
        if (r instanceof Response) return r;
        if (!registry.account(r.accountId!))
          return errorResponse("unregistered_id", [
            {
              path: "accountId",
              code: "unregistered",
              message: `Register account ${r.accountId} first.`,
            },
          ]);
        await registry.putTracker({
          id: r.id!,
          accountId: r.accountId!,
          name: body.name,
          allowedOrigins: body.allowedOrigins ?? [],
        });
        return json(registry.tracker(r.accountId!, r.id!));
      },
      {
        body: t.Object({
          name: Name,
          allowedOrigins: t.Optional(t.Array(OriginSchema, { maxItems: 50 })),
        }),
      },
    )
    .delete("/trackers/:accountId/:id", async ({ params: raw }) => {
      const params = pathParams(raw);
      return (await registry.deleteTracker(params.accountId.toLowerCase(), params.id.toLowerCase()))
        ? new Response(null, { status: 204 })
        : missing("tracker");
    })
    .put(
      "/vendors/:name",
      async ({ params: raw, body }) => {
        const params = pathParams(raw);
        if (
          params.name.trim().length > 200 ||
          !params.name.trim() ||
          params.name.includes("\uFFFD")
        )
          return errorResponse("invalid_request", [
            {
              path: "name",
              code: "invalid_value",
              message: "A vendor name has 1 to 200 characters.",
            },
          ]);
        await registry.putVendor({ name: params.name.trim(), products: body.products ?? [] });
        return json({ name: params.name.trim(), products: body.products ?? [] });
      },
      {
        body: t.Object({
          products: t.Optional(
            t.Array(t.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 }),
          ),
        }),
      },
    )
    .delete("/vendors/:name", async ({ params: raw }) => {
      const params = pathParams(raw);
      return params.name.length <= 200 && (await registry.deleteVendor(params.name))
        ? new Response(null, { status: 204 })
        : missing("vendor");
    });
}
