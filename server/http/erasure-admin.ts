/**
 * Erasure on request (journey/erasure.ts), the owner's alone (admin-access.ts lists neither
 * route, so no account-scoped credential gets past the gate):
 *
 * - POST /admin/api/erasure {"identifiers": {email, emailSha256, phone, phoneSha256, userId,
 *   deviceId, instanceId}, "accountId": "1001" | null, "dryRun": true|false}: each identifier
 *   one value or a list. A dry run answers what would go; otherwise it goes, and the answer
 *   has the operation's ID.
 * - GET /admin/api/erasures lists the audit, newest first (never an identifier).
 *
 * A cleartext e-mail or phone is hashed here as events are linked by it
 * (events/lead-details.ts) and never stored.
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { JourneyLimits, LeadRule } from "../config/schema.ts";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { parsePathId } from "../events/ids.ts";
import {
  emailSha256Of,
  isEmail,
  normalizeEmail,
  phoneE164,
  phoneSha256Of,
} from "../events/lead-details.ts";
import { isSha256Hex, type LinkKind } from "../events/links.ts";
import { eraseShopper, type Identifier } from "../journey/erasure.ts";
import type { JourneyReader } from "../journey/journey.ts";
import { leadRule } from "../journey/lead-rule.ts";
import type { Registry } from "../registry/registry.ts";
import type { Store } from "../store/open-store.ts";
import type { Log } from "../telemetry/log.ts";
import { principalOf } from "./admin-access.ts";
import { readJsonBody, withQuery } from "./admin-input.ts";
import { NoQuery } from "./admin.model.ts";
import { json } from "./json.ts";

const Values = t.Union([
  t.String({ minLength: 1, maxLength: 1000 }),
  t.Array(t.String({ minLength: 1, maxLength: 1000 }), { minItems: 1, maxItems: 20 }),
]);

const ErasureBody = t.Object(
  {
    identifiers: t.Object(
      {
        email: t.Optional(Values),
        emailSha256: t.Optional(Values),
        phone: t.Optional(Values),
        phoneSha256: t.Optional(Values),
        userId: t.Optional(Values),
        deviceId: t.Optional(Values),
        instanceId: t.Optional(Values),
      },
      { additionalProperties: false },
    ),
    /** The account; null or left out: every account. */
    accountId: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 64 }), t.Null()])),
    dryRun: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);

const AuditQuery = t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000 })) });

const AS_IS: [keyof typeof ErasureBody.properties.identifiers.properties, LinkKind][] = [
  ["userId", "user"],
  ["deviceId", "device"],
  ["instanceId", "instance"],
];

/**
 * The identifiers a request names, as events are linked by them, and every text they were
 * given as (lower case), or its problems.
 */
export function identifiersOf(
  given: typeof ErasureBody.static.identifiers,
  country: string,
): { identifiers: Identifier[]; mentions: string[] } | ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const identifiers: Identifier[] = [];
  const mentions: string[] = [];
  const each = (field: keyof typeof given, use: (value: string, path: string) => void) => {
    const v = given[field];
    const list = v === undefined ? [] : typeof v === "string" ? [v] : v;
    list.forEach((raw, i) => {
      const value = raw.trim();
      const path = `/identifiers/${field}${typeof v === "string" ? "" : `/${i}`}`;
      if (value === "") problems.push({ path, code: "empty", message: "Must not be empty." });
      else use(value, path);
    });
  };
  const add = (kind: LinkKind, value: string, ...texts: string[]) => {
    identifiers.push({ kind, value });
    mentions.push(value.toLowerCase(), ...texts.map((x) => x.toLowerCase()));
  };
  each("email", (value, path) => {
    if (isEmail(value)) add("email", emailSha256Of(value), normalizeEmail(value));
    else problems.push({ path, code: "invalid_value", message: "Not an e-mail address." });
  });
  each("phone", (value, path) => {
    const e164 = phoneE164(value, country);
    if (e164 !== null) add("phone", phoneSha256Of(e164), e164, value);
    else
      problems.push({
        path,
        code: "invalid_value",
        message: `Not a phone number (give the country code with +, or a number of ${country}).`,
      });
  });
  for (const [field, kind] of [
    ["emailSha256", "email"],
    ["phoneSha256", "phone"],
  ] as const)
    each(field, (value, path) => {
      if (isSha256Hex(value)) add(kind, value.toLowerCase());
      else problems.push({ path, code: "invalid_value", message: "Must be 64 hex digits." });
    });
  for (const [field, kind] of AS_IS) each(field, (value) => add(kind, value));
  if (problems.length === 0 && identifiers.length === 0)
    problems.push({
      path: "/identifiers",
      code: "required",
      message:
        "Name at least one: email, emailSha256, phone, phoneSha256, userId, deviceId or instanceId.",
    });
  return problems.length > 0 ? problems : { identifiers, mentions: [...new Set(mentions)] };
}

export function erasureAdminRoutes(deps: {
  store: Store;
  reader: JourneyReader;
  registry: Registry;
  journey: JourneyLimits;
  leads: LeadRule;
  phoneCountry: string;
  log: Log;
  now: () => number;
}) {
  const isLead = leadRule(deps.leads);
  return new Elysia({ name: "erasure-admin" })
    .post(
      "/erasure",
      withQuery(NoQuery, async (_, { request }) => {
        const body = await readJsonBody(ErasureBody, request);
        if (body instanceof Response) return body;
        const named = identifiersOf(body.identifiers, deps.phoneCountry);
        if (Array.isArray(named)) return errorResponse("invalid_request", named);
        const accountId = body.accountId == null ? null : parsePathId(body.accountId.trim());
        if (accountId === null && body.accountId != null)
          return errorResponse("invalid_request", [
            { path: "/accountId", code: "invalid_id", message: "Not an account ID." },
          ]);
        const who = principalOf(request);
        const result = await eraseShopper(
          deps.store,
          deps.reader,
          {
            accounts: accountId === null ? null : [accountId],
            searched: accountId !== null ? [accountId] : everyAccount(deps.registry, deps.store),
            ...named,
            dryRun: body.dryRun ?? false,
            by: { id: who?.id ?? "owner", name: who?.name ?? "owner" },
          },
          deps.journey,
          isLead,
          deps.now(),
        ).catch((err: unknown) => {
          deps.log.error("erasure failed", { error: (err as Error).message });
          return null;
        });
        if (result === null)
          return errorResponse(
            "storage_unavailable",
            [],
            "The erasure could not be committed, so nothing was erased; retry later.",
          );
        if (!result.dryRun)
          deps.log.info("erasure", {
            operationId: result.operationId,
            by: who?.name ?? "owner",
            ...result.counts,
            suppressed: result.suppressed,
          });
        return json(result);
      }),
    )
    .get(
      "/erasures",
      withQuery(AuditQuery, (query) =>
        json({ erasures: deps.store.erasures.list(query.limit ?? 100) }),
      ),
    );
}

/** Every account trackd knows: the registry's and every one that has sent an event. */
function everyAccount(registry: Registry, store: Store): string[] {
  return [...new Set([...registry.list().accounts.map((a) => a.id), ...store.stats.accounts()])];
}
