/**
 * What each admin route lets a credential do (auth/principal.ts), by the route the router
 * matched: the one table the gate (admin-auth.ts) and the query reader (admin-input.ts) consult.
 *
 * A route missing here is the owner's alone (and admin credentials for every account): a new
 * route is closed to every other credential until it is listed with how it names its account.
 * For a credential limited to accounts, an account outside them is answered 404, as if it did
 * not exist; a route that belongs to no account (delivery, rejects, vendors, credentials) is
 * 404 to it as well.
 */
import { parsePathId } from "../events/ids.ts";
import { allowsAccount, type Principal } from "../auth/principal.ts";
import { pathParams } from "./params.ts";

export interface Access {
  /** read: a GET of data; export: a file fetch (the leads and conversion files); change: anything else. */
  needs: "read" | "export" | "change";
  /**
   * Where the route names its account, for credentials limited to accounts: the `accountId`
   * query parameter (required of them), a path parameter, the event the handler reads
   * ("event": the handler checks its account), "filtered" (the handler lists only theirs), or
   * "global": it spans every account (only for credentials that see every account).
   */
  account: { query: "accountId" } | { param: string } | "event" | "filtered" | "global";
  /** Written to the access log: reads of shoppers' and leads' data. */
  logged?: boolean;
  /** An account's export credential (HTTP Basic) may fetch it. */
  basic?: boolean;
}

const byQuery = { query: "accountId" } as const;
const read = (account: Access["account"], logged = false): Access => ({
  needs: "read",
  account,
  logged,
});
const change = (account: Access["account"]): Access => ({ needs: "change", account });
const exported = (basic = false): Access => ({
  needs: "export",
  account: byQuery,
  logged: true,
  basic,
});

const API = "/admin/api";
/** Method and route pattern (as the router has it) to what a credential may do there. */
export const ACCESS: Record<string, Access> = {
  [`GET ${API}/events/stream`]: read(byQuery, true),
  [`GET ${API}/events`]: read(byQuery, true),
  [`GET ${API}/events/:eventId`]: read("event", true),
  [`GET ${API}/instances/:accountId/:instanceId`]: read({ param: "accountId" }, true),
  [`GET ${API}/instances/:accountId`]: read({ param: "accountId" }, true),
  [`GET ${API}/registry/`]: read("filtered"),
  [`PUT ${API}/registry/accounts/:id`]: change({ param: "id" }),
  [`DELETE ${API}/registry/accounts/:id`]: change({ param: "id" }),
  [`PUT ${API}/registry/trackers/:accountId/:id`]: change({ param: "accountId" }),
  [`DELETE ${API}/registry/trackers/:accountId/:id`]: change({ param: "accountId" }),
  [`POST ${API}/registry/trackers/:accountId/:id/secrets`]: change({ param: "accountId" }),
  [`GET ${API}/registry/trackers/:accountId/:id/secrets`]: read({ param: "accountId" }),
  [`DELETE ${API}/registry/trackers/:accountId/:id/secrets/:secretId`]: change({
    param: "accountId",
  }),
  [`POST ${API}/registry/accounts/:id/export-credential`]: change({ param: "id" }),
  [`GET ${API}/registry/accounts/:id/export-credential`]: read({ param: "id" }),
  [`DELETE ${API}/registry/accounts/:id/export-credential`]: change({ param: "id" }),
  [`GET ${API}/check`]: read(byQuery),
  [`GET ${API}/journey`]: read(byQuery, true),
  [`GET ${API}/leads`]: read(byQuery, true),
  [`GET ${API}/leads/:eventId`]: read(byQuery, true),
  [`GET ${API}/leads.csv`]: exported(),
  [`GET ${API}/leads.ndjson`]: exported(),
  [`GET ${API}/attribution`]: read(byQuery, true),
  [`GET ${API}/conversions/google-ads.csv`]: exported(true),
  [`GET ${API}/conversions/meta.csv`]: exported(true),
  // Across every account: for credentials that see every account.
  [`GET ${API}/overview`]: read("global"),
  [`GET ${API}/trackers`]: read("global"),
  [`GET ${API}/unregistered`]: read("global"),
  [`GET ${API}/rejects`]: read("global"),
  [`GET ${API}/rejects/summary`]: read("global"),
  [`GET ${API}/sinks`]: read("global"),
  [`GET ${API}/dead-letters`]: read("global"),
};

/** What the route lets credentials do; undefined: the owner's alone. */
export const accessOf = (method: string, route: string): Access | undefined =>
  ACCESS[`${method} ${route}`];

/** Why a principal may not use a route: "role" (403) or "scope" (404), or null if it may. */
export function refusalFor(p: Principal, access: Access | undefined): "role" | "scope" | null {
  if (p.role === "admin" && p.accounts === null) return null;
  // The owner's routes, and those across every account, do not exist for the others.
  if (p.accounts !== null && (!access || access.account === "global")) return "scope";
  if (!access) return "role";
  const roleOk =
    p.role === "admin" ||
    (p.role === "read" && access.needs !== "change") ||
    (p.role === "export" && access.needs === "export");
  return roleOk ? null : "role";
}

/** Who each admitted request acts as, and the route's access (set by the gate). */
const admitted = new WeakMap<Request, { principal: Principal; access: Access | undefined }>();

export function admit(request: Request, principal: Principal, access: Access | undefined): void {
  admitted.set(request, { principal, access });
}

/** The principal the gate admitted this request as (undefined: no gate ran, as for logging in). */
export const principalOf = (request: Request): Principal | undefined =>
  admitted.get(request)?.principal;

/** True if the request may see this account (a handler's own check: an event's, a list's). */
export function maySee(request: Request, accountId: string): boolean {
  const p = principalOf(request);
  return p === undefined || allowsAccount(p, accountId);
}

/**
 * The scope check on the route's own reading of the request (its query as readQuery read it,
 * its path parameters as the router gave them): "missing" when a credential limited to
 * accounts leaves the account out, "hidden" for an account outside them, else null.
 */
export function scopeProblem(
  request: Request,
  query: Record<string, unknown>,
  params: Record<string, string> | undefined,
): "missing" | "hidden" | null {
  const entry = admitted.get(request);
  if (!entry || entry.principal.accounts === null || !entry.access) return null;
  const { account } = entry.access;
  if (typeof account === "string") return null;
  const raw = "query" in account ? query[account.query] : pathParams(params ?? {})[account.param];
  if (raw === undefined) return "query" in account ? "missing" : "hidden";
  const id = parsePathId(String(raw));
  // An ID the route itself will refuse (400) is left to it.
  if (id === null) return null;
  return allowsAccount(entry.principal, id) ? null : "hidden";
}
