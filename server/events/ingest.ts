/**
 * The collect pipeline on plain values: check the path IDs, read the body, validate and
 * normalize, consult the registry, give the event its ID, and store it durably (or, with
 * oa_debug, report what would happen). Every refusal is recorded in the reject log.
 */
import type { Limits } from "../config/schema.ts";
import { ERRORS, type ErrorCode, type ErrorDetail } from "../errors.ts";
import type { BodyResult } from "../http/read-body.ts";
import type { Registry } from "../registry/registry.ts";
import type { EventStore } from "../store/event-store.ts";
import type { RejectLog } from "../store/reject-log.ts";
import type { Log } from "../telemetry/log.ts";
import type { EventContext, RegistryFlags, TrackedEvent, Warning } from "./event.model.ts";
import { parsePathId, uuidv7 } from "./ids.ts";
import { normalizeEvent, type BodyFields } from "./normalize.ts";

export interface IngestDeps {
  events: Pick<EventStore, "append">;
  rejects: Pick<RejectLog, "record">;
  registry: Registry;
  limits: Limits;
  log: Log;
  now: () => number;
  /** True while storage is at its cap: new events are refused with 503 until space frees. */
  storageFull: () => boolean;
}

export interface IngestInput {
  aid: string;
  tid: string;
  readBody: () => Promise<BodyResult>;
  context: EventContext;
  /** oa_debug=true: validate and report, store nothing. */
  debug: boolean;
  /** oa_track=false: store as a test event, never delivered. */
  test: boolean;
}

export interface DebugReport {
  debug: true;
  valid: boolean;
  wouldRespond: { status: number; code?: ErrorCode };
  event: TrackedEvent | null;
  problems: ErrorDetail[];
  warnings: Warning[];
  received: { aid: string; tid: string; test: boolean; bytes: number | null };
}

export type IngestOutcome =
  | { kind: "stored"; eventId: string }
  | { kind: "debug"; report: DebugReport }
  | { kind: "error"; code: ErrorCode; details: ErrorDetail[]; message?: string };

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

const PATH_ID_MESSAGE = "must be a positive integer without leading zeros (at most 18 digits) or a UUID";

/** Problems with the path IDs, naming `aid` and/or `tid`. */
function pathIdProblems(accountId: string | null, trackerId: string | null): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (accountId === null) details.push({ path: "aid", code: "invalid_id", message: `aid ${PATH_ID_MESSAGE}.` });
  if (trackerId === null) details.push({ path: "tid", code: "invalid_id", message: `tid ${PATH_ID_MESSAGE}.` });
  return details;
}

/** What the registry does not know: warnings under policy accept, errors (IDs only) under reject. */
function unregistered(flags: RegistryFlags, accountId: string, trackerId: string, vendor: string): ErrorDetail[] {
  const notes: ErrorDetail[] = [];
  if (!flags.account) notes.push({ path: "aid", code: "unregistered", message: `Account ${accountId} is not registered.` });
  if (!flags.tracker) notes.push({ path: "tid", code: "unregistered", message: `Tracker ${trackerId} is not registered under account ${accountId}.` });
  if (!flags.vendor) notes.push({ path: "/vendor", code: "unregistered", message: `Vendor "${vendor}" is not registered.` });
  return notes;
}

/** Assembles the internal event (field order is the documented one). */
function buildEvent(f: BodyFields, receivedAt: number, accountId: string, trackerId: string, input: IngestInput, registry: RegistryFlags): TrackedEvent {
  return {
    eventId: uuidv7(receivedAt),
    receivedAt: isoTime(receivedAt),
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
    context: input.context,
    test: input.test || input.debug,
    registry,
  };
}

/** Runs one collect request through the pipeline. */
export async function ingest(deps: IngestDeps, input: IngestInput): Promise<IngestOutcome> {
  const receivedAt = deps.now();
  const accountId = parsePathId(input.aid);
  const trackerId = parsePathId(input.tid);
  let bytes: number | null = null;
  const warnings: Warning[] = [];

  const report = (code: ErrorCode | undefined, event: TrackedEvent | null, problems: ErrorDetail[]): IngestOutcome => ({
    kind: "debug",
    report: {
      debug: true,
      valid: code === undefined,
      wouldRespond: code ? { status: ERRORS[code].status, code } : { status: 204 },
      event,
      problems,
      warnings,
      received: { aid: input.aid, tid: input.tid, test: input.test || input.debug, bytes },
    },
  });
  const refuse = (code: ErrorCode, details: ErrorDetail[], sample: string, message?: string, event: TrackedEvent | null = null): IngestOutcome => {
    if (input.debug) return report(code, event, details);
    const record = { at: isoTime(receivedAt), status: ERRORS[code].status, code, details, ip: input.context.ip, userAgent: input.context.userAgent, sample };
    deps.rejects.record({ ...record, accountId: accountId ?? input.aid.slice(0, 64), trackerId: trackerId ?? input.tid.slice(0, 64) }, accountId !== null && trackerId !== null);
    return { kind: "error", code, details, message };
  };

  if (accountId === null || trackerId === null) return refuse("invalid_id", pathIdProblems(accountId, trackerId), "");
  if (deps.storageFull()) return refuse("storage_full", [], "");

  const body = await input.readBody();
  if (!body.ok) return refuse(body.code, body.details, body.sample, body.message);
  bytes = body.bytes;

  const normalized = normalizeEvent(body.body, deps.limits);
  warnings.push(...normalized.warnings);
  if (!normalized.fields) return refuse("invalid_event", normalized.problems, body.text);

  const registry = deps.registry.lookup(accountId, trackerId, normalized.fields.vendor);
  const event = buildEvent(normalized.fields, receivedAt, accountId, trackerId, input, registry);
  // Only debug reports and the reject policy read these: skip the strings on the hot path.
  const wanted = input.debug || deps.registry.policy === "reject";
  const notes = wanted && !(registry.account && registry.tracker && registry.vendor) ? unregistered(registry, accountId, trackerId, event.vendor) : [];
  if (deps.registry.policy === "reject" && (!registry.account || !registry.tracker))
    return refuse("unregistered_id", notes.filter((n) => n.path !== "/vendor"), body.text, undefined, event);
  warnings.push(...notes);
  if (input.debug) return report(undefined, event, []);

  try {
    await deps.events.append(event);
  } catch (err) {
    deps.log.error("event not stored", { eventId: event.eventId, error: String(err) });
    return { kind: "error", code: "storage_unavailable", details: [] };
  }
  return { kind: "stored", eventId: event.eventId };
}
