/**
 * The collect pipeline's policies, in the order http/collect.ts applies them: before the body
 * (precheck: draining, path IDs, rate limits, allowed origins, storage room), so a refused
 * request's body is never decoded or parsed; then for each event (acceptOne: validation,
 * normalization, the registry, the client's event ID, the durable store, or with oa_debug
 * what would happen); and how a refusal is recorded in the reject log (recordRefusal).
 */
import type { Limits } from "../config/schema.ts";
import { ERRORS, type ErrorCode, type ErrorDetail } from "../errors.ts";
import type { Registry } from "../registry/registry.ts";
import type { EventStore } from "../store/event-store.ts";
import type { RejectLog } from "../store/reject-log.ts";
import { clientKey } from "../store/client-ids.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Log } from "../telemetry/log.ts";
import type { EventContext, RegistryFlags, TrackedEvent, Warning } from "../events/event.model.ts";
import { uuidv7 } from "../events/ids.ts";
import { withoutCustomer } from "../events/lead-details.ts";
import { normalizeEvent, type BodyFields } from "../events/normalize.ts";
import { occurredAt } from "../events/time.ts";
import { type Consent, consentOf } from "../events/consent.ts";
import type { TrackerSecrets } from "../store/tracker-secrets.ts";
import { checkSender, type Proof, type SecretsOf } from "./server-auth.ts";

export interface IngestDeps {
  events: Pick<EventStore, "append">;
  rejects: Pick<RejectLog, "record">;
  registry: Registry;
  limits: Limits;
  log: Log;
  now: () => number;
  /** True while storage is at its cap: new events are refused with 503 until space frees. */
  storageFull: () => boolean;
  /** True once shutdown has begun: new events are refused with 503. */
  draining: () => boolean;
  rateLimits: Pick<RateLimiter, "take">;
  /** A tracker's allowed browser origins (none listed: any). */
  allowedOrigins: (accountId: string, trackerId: string) => string[];
  /** The country a customer's phone without a country code is read in (pii.defaultCountry). */
  phoneCountry: string;
  /** What is kept of a client's address on this tracker (ip-policy.ts), for `receivedMs`'s day. */
  keepIp: (
    ip: string | null,
    accountId: string | null,
    trackerId: string | null,
    receivedMs: number,
  ) => string | null;
  /** Trackers' secrets, for those whose server events must prove their sender. */
  trackerSecrets: SecretsOf & Pick<TrackerSecrets, "noteUse">;
}

export interface IngestInput {
  /** The path IDs as sent. */
  aid: string;
  tid: string;
  /** The same, parsed (parsePathId; null: invalid). */
  ids: { accountId: string | null; trackerId: string | null };
  /** What is kept of the request: its address already as the tracker's IP policy keeps it. */
  context: EventContext;
  /** The client's whole address, for rate limits only (held in memory, never kept). */
  clientIp: string | null;
  /** oa_debug=true: validate and report, store nothing. */
  debug: boolean;
  /** oa_track=false: store as a test event, never delivered. */
  test: boolean;
  /** The browser sent Sec-GPC: 1 (Global Privacy Control): ads denied. */
  gpc?: boolean;
}

let lastMs = -1;
let lastIso = "";
/** ISO 8601 time, cached per millisecond: under load many requests share one. */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

const PATH_ID_MESSAGE =
  "must be a positive integer without leading zeros (at most 18 digits) or a UUID";

/** Problems with the path IDs, naming `aid` and/or `tid`. */
function pathIdProblems(accountId: string | null, trackerId: string | null): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (accountId === null)
    details.push({ path: "aid", code: "invalid_id", message: `aid ${PATH_ID_MESSAGE}.` });
  if (trackerId === null)
    details.push({ path: "tid", code: "invalid_id", message: `tid ${PATH_ID_MESSAGE}.` });
  return details;
}

/** What the registry does not know: warnings under policy accept, errors (IDs only) under reject. */
function unregistered(
  flags: RegistryFlags,
  accountId: string,
  trackerId: string,
  vendor: string,
): ErrorDetail[] {
  const notes: ErrorDetail[] = [];
  if (!flags.account)
    notes.push({
      path: "aid",
      code: "unregistered",
      message: `Account ${accountId} is not registered.`,
    });
  if (!flags.tracker)
    notes.push({
      path: "tid",
      code: "unregistered",
      message: `Tracker ${trackerId} is not registered under account ${accountId}.`,
    });
  if (!flags.vendor)
    notes.push({
      path: "/vendor",
      code: "unregistered",
      message: `Vendor "${vendor}" is not registered.`,
    });
  return notes;
}

/** The request's context, with the event's own consent where it has one (a batch's events differ). */
const withConsent = (context: EventContext, consent: Consent | undefined): EventContext =>
  consent ? { ...context, consent } : context;

/** Assembles the internal event (field order is the documented one). */
function buildEvent(
  eventId: string,
  f: BodyFields,
  receivedAt: number,
  occurred: number,
  accountId: string,
  trackerId: string,
  input: IngestInput,
  registry: RegistryFlags,
): TrackedEvent {
  return {
    eventId,
    ...(f.clientEventId !== undefined && { clientEventId: f.clientEventId }),
    receivedAt: isoTime(receivedAt),
    occurredAt: occurred === receivedAt ? isoTime(receivedAt) : new Date(occurred).toISOString(),
    accountId,
    trackerId,
    action: f.action,
    actionType: f.actionType,
    object: f.object,
    vendor: f.vendor,
    product: f.product,
    instanceId: f.instanceId,
    ...(f.label !== undefined && { label: f.label }),
    ...(f.score !== undefined && { score: f.score }),
    properties: f.properties,
    context: withConsent(input.context, consentOf(f.consent, input.gpc === true)),
    test: input.test, // oa_debug's report shows the event as it would be stored
    registry,
  };
}

/** Where a request is going: the parsed path IDs and what it asked for. */
export interface Scope {
  deps: IngestDeps;
  input: IngestInput;
  accountId: string;
  trackerId: string;
  receivedAt: number;
  /** The request's verified signature: its events are stored under it as their retry key. */
  replayKey?: string | null;
}

/** The fate of one event body, shared by the single and the batch route. */
export type EventOutcome =
  | { kind: "stored"; eventId: string }
  | { kind: "duplicate"; eventId: string }
  | { kind: "valid"; event: TrackedEvent; warnings: Warning[] } // oa_debug: would be stored
  | {
      kind: "rejected";
      code: ErrorCode;
      details: ErrorDetail[];
      event: TrackedEvent | null;
      warnings: Warning[];
    }
  | { kind: "unavailable" };

/**
 * Validates, normalizes, checks the registry and the client's event ID, and stores one event.
 * `unsafeIntegers`: the body's text wrote an integer beyond ±2^53 (see normalizeEvent).
 */
export async function acceptOne(
  scope: Scope,
  body: Record<string, unknown>,
  unsafeIntegers: boolean,
  index = 0,
): Promise<EventOutcome> {
  const { deps, input, accountId, trackerId, receivedAt } = scope;
  const warnings: Warning[] = [];
  const normalized = normalizeEvent(body, deps.limits, unsafeIntegers, deps.phoneCountry);
  warnings.push(...normalized.warnings);
  const fields = normalized.fields;
  if (!fields)
    return {
      kind: "rejected",
      code: "invalid_event",
      details: normalized.problems,
      event: null,
      warnings,
    };
  const occurred = occurredAt(receivedAt, fields.timestamp, fields.sentAt, warnings);

  const registry = deps.registry.lookup(accountId, trackerId, fields.vendor);
  // Only debug reports and the reject policy read these: skip the strings on the hot path.
  const wanted = input.debug || deps.registry.policy === "reject";
  const notes =
    wanted && !(registry.account && registry.tracker && registry.vendor)
      ? unregistered(registry, accountId, trackerId, fields.vendor)
      : [];
  // A stored event's ID is made as it is queued for its commit (event-writer.ts); an event
  // that is only shown gets one here.
  const event = buildEvent("", fields, receivedAt, occurred, accountId, trackerId, input, registry);
  if (deps.registry.policy === "reject" && (!registry.account || !registry.tracker)) {
    event.eventId = uuidv7(receivedAt);
    return {
      kind: "rejected",
      code: "unregistered_id",
      details: notes.filter((n) => n.path !== "/vendor"),
      event,
      warnings,
    };
  }
  warnings.push(...notes);
  if (input.debug) {
    event.eventId = uuidv7(receivedAt);
    return { kind: "valid", event, warnings };
  }

  // A retry of an event stored already (or being stored right now) is a success, stored once.
  // A signed request without the client's event ID is known by its signature (and the event's
  // place in it): sent again, it is a duplicate, whoever sends it (server-auth.ts).
  const retryId =
    fields.clientEventId ?? (scope.replayKey ? `sig:${scope.replayKey}:${index}` : null);
  const key = retryId ? clientKey(accountId, trackerId, retryId) : null;
  try {
    const written = await deps.events.append(event, receivedAt, key, fields.customer);
    return { kind: written.duplicate ? "duplicate" : "stored", eventId: written.eventId };
  } catch (err) {
    deps.log.error("event not stored", { error: String(err) });
    return { kind: "unavailable" };
  }
}

/**
 * Records a refusal in the reject log (counted against the tracker when its IDs were valid),
 * its body's sample without a customer's contact details.
 */
export function recordRefusal(
  deps: Pick<IngestDeps, "rejects">,
  input: Pick<IngestInput, "aid" | "tid" | "context">,
  ids: { accountId: string | null; trackerId: string | null },
  receivedAt: number,
  code: ErrorCode,
  details: ErrorDetail[],
  sample: string,
): void {
  deps.rejects.record(
    {
      at: isoTime(receivedAt),
      status: ERRORS[code].status,
      code,
      details,
      ip: input.context.ip,
      userAgent: input.context.userAgent,
      sample: withoutCustomer(sample),
      accountId: ids.accountId ?? input.aid.slice(0, 64),
      trackerId: ids.trackerId ?? input.tid.slice(0, 64),
    },
    ids.accountId !== null && ids.trackerId !== null,
  );
}

/** A refusal before the body is read; `hard` ones are answered as such even to oa_debug. */
export interface Precheck {
  code: ErrorCode;
  details: ErrorDetail[];
  ids: { accountId: string | null; trackerId: string | null };
  hard?: boolean;
  retryAfterSeconds?: number;
}

/** The policies before the body: draining, path IDs, rate limits, allowed origins, storage room. */
export function precheck(
  deps: IngestDeps,
  input: IngestInput,
  now: number,
): { accountId: string; trackerId: string } | Precheck {
  const { ids } = input;
  const { accountId, trackerId } = ids;
  if (!input.debug && deps.draining()) return { code: "shutting_down", details: [], ids };
  if (accountId === null || trackerId === null)
    return { code: "invalid_id", details: pathIdProblems(accountId, trackerId), ids };
  const wait = deps.rateLimits.take(input.clientIp, accountId, trackerId, now);
  if (wait > 0)
    return {
      code: "rate_limited",
      details: [],
      ids,
      hard: true,
      retryAfterSeconds: Math.ceil(wait / 1000),
    };
  const origin = input.context.origin;
  if (origin !== null) {
    const allowed = deps.allowedOrigins(accountId, trackerId);
    if (allowed.length > 0 && !allowed.includes(origin))
      return {
        code: "origin_not_allowed",
        details: [
          {
            path: "origin",
            code: "invalid_value",
            message: `Origin ${origin} is not among this tracker's allowed origins.`,
          },
        ],
        ids,
        hard: true,
      };
  }
  if (deps.storageFull()) return { code: "storage_full", details: [], ids };
  return { accountId, trackerId };
}

/**
 * On a tracker whose server events must prove their sender: checks a server event's request
 * (server-auth.ts) and records the outcome in its context (`auth`). A refusal unless it proved
 * it or the tracker flags rather than refuses; otherwise the signature to store its events under.
 */
export function proveSender(
  deps: IngestDeps,
  input: IngestInput,
  accountId: string,
  trackerId: string,
  proof: Proof,
  now: number,
): { replayKey: string | null } | { code: ErrorCode; details: ErrorDetail[] } {
  const tracker = deps.registry.tracker(accountId, trackerId);
  const mode = tracker?.serverAuth ?? "none";
  if (mode === "none" || input.context.source !== "server") return { replayKey: null };
  const check = checkSender(mode, deps.trackerSecrets, accountId, trackerId, proof, now);
  if (check.ok) {
    deps.trackerSecrets.noteUse(accountId, trackerId, check.secretId, now);
    input.context.auth = { method: check.method, verified: true };
    return { replayKey: check.replayKey };
  }
  if ((tracker?.unverified ?? "refuse") === "refuse") return check;
  input.context.auth = { method: mode, verified: false, problem: check.code };
  return { replayKey: null };
}
