/**
 * POST /collect/{aid}/{tid}/event: the collect route, its CORS preflight, and 405 for every
 * other method. The body is read raw (parse: "none") so text/plain, no content type and
 * compressed bodies are all handled by read-body.ts rather than Elysia's parsers.
 */
import { Elysia } from "elysia";
import { ERRORS, errorResponse, type ErrorCode, type ErrorDetail } from "../errors.ts";
import type { EventContext, TrackedEvent, Warning } from "../events/event.model.ts";
import {
  acceptOne,
  precheck,
  proveSender,
  recordRefusal,
  type IngestDeps,
  type IngestInput,
  type Scope,
} from "../ingest/ingest.ts";
import { acceptBatch } from "../ingest/ingest-batch.ts";
import { SIGNATURE_HEADER } from "../ingest/server-auth.ts";
import { botOf } from "../ingest/bots.ts";
import { parsePathId } from "../events/ids.ts";
import { json } from "./json.ts";
import { pathParams } from "./params.ts";
import { clientIp, type PeerAddress } from "./client-ip.ts";
import { readEventBody } from "./read-body.ts";
import type { Metrics } from "../telemetry/metrics.ts";

export interface CollectDeps extends IngestDeps {
  metrics: Metrics;
  /** journey.includeBots: bots' events link like any other. */
  includeBots: boolean;
  isTrustedProxy: (ip: string) => boolean;
  peerAddress: PeerAddress;
}

/**
 * Any page may post events; no credentials are involved, so "*" is safe. Only requests that
 * carry Origin (every browser POST does) get the CORS headers: they mean nothing to a server
 * client, and each response header costs measurable time on the hot path.
 */
export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "X-Event-Id, X-Duplicate",
};
const NO_HEADERS = {};

const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Content-Type, Content-Encoding",
  "access-control-max-age": "86400",
};

const MAX_HEADER_CHARS = 1024;

const header = (request: Request, name: string) =>
  request.headers.get(name)?.slice(0, MAX_HEADER_CHARS) ?? null;

/**
 * Browser or server. A browser is the Web SDK, which names itself with `?sdk=` on every send,
 * or a request carrying what only browsers send: Origin (on every POST from a page) or
 * Sec-Fetch-Site / Sec-Fetch-Dest (on every request to an HTTPS or localhost endpoint, images
 * included). Everything else is a server. Sec-Fetch-Mode alone is not a browser: Node's fetch
 * sends it. Checked against Node's, Bun's and Deno's fetch, Python's urllib, PHP and curl.
 */
function isBrowser(
  request: Request,
  origin: string | null,
  query: Record<string, string | undefined>,
): boolean {
  return (
    query.sdk !== undefined ||
    origin !== null ||
    request.headers.has("sec-fetch-site") ||
    request.headers.has("sec-fetch-dest")
  );
}

/**
 * Who sent it and from where, as far as the request tells (`ip`: what is kept of its address);
 * a browser that is a bot says so (ingest/bots.ts).
 */
function requestContext(
  request: Request,
  query: Record<string, string | undefined>,
  ip: string | null,
  botsExcluded: boolean,
): EventContext {
  const origin = header(request, "origin");
  const browser = isBrowser(request, origin, query);
  const userAgent = header(request, "user-agent");
  const bot = browser ? botOf(userAgent, query.oa_webdriver === "1", botsExcluded) : undefined;
  return {
    ip,
    userAgent,
    origin,
    referer: header(request, "referer"),
    source: browser ? "browser" : "server",
    ...(bot && { bot }),
  };
}

/** A 1x1 transparent GIF, for devices and pages that can only load an image. */
const PIXEL = Uint8Array.from(
  atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"),
  (c) => c.charCodeAt(0),
);

/** Event fields from a GET query string (everything but the oa_ switches and sdk); a numeric score becomes a number. */
function queryBody(url: string): {
  body: Record<string, unknown>;
  text: string;
  unsafeInteger: boolean;
} {
  const params = new URL(url).searchParams;
  const body: Record<string, unknown> = Object.create(null);
  let unsafeInteger = false;
  for (const [k, v] of params) {
    if (k.startsWith("oa_") || k === "sdk") continue;
    const numeric = k === "score" && v.trim() !== "" && Number.isFinite(Number(v));
    body[k] = numeric ? Number(v) : v;
    // An integer written past 2^53 is refused, as in a JSON body (json-scan.ts).
    if (numeric && /^\s*-?\d+\s*$/.test(v) && !Number.isSafeInteger(Number(v)))
      unsafeInteger = true;
  }
  return { body, text: params.toString(), unsafeInteger };
}

/** What a signature of a GET covers: the query string, as sent (after the first `?`). */
function queryBytes(url: string): Uint8Array {
  const at = url.indexOf("?");
  return new TextEncoder().encode(at < 0 ? "" : url.slice(at + 1));
}

export type Route = "event" | "events" | "get" | "pixel";

/** What became of one event of a batch, as its answer lists it. */
interface BatchResult {
  index: number;
  status: "accepted" | "duplicate" | "rejected" | "valid";
  eventId?: string;
  error?: { code: ErrorCode; details: ErrorDetail[] };
  event?: TrackedEvent | null;
  warnings?: Warning[];
}

/** oa_debug's answer: what would happen to the event, stored nowhere. */
interface DebugReport {
  debug: true;
  valid: boolean;
  wouldRespond: { status: number; code?: ErrorCode };
  event: TrackedEvent | null;
  problems: ErrorDetail[];
  warnings: Warning[];
  received: { aid: string; tid: string; test: boolean; bytes: number | null };
}

/** One request as the exits need it: where it came from and what it asked. */
interface CollectRequest {
  route: Route;
  params: { aid: string; tid: string };
  input: IngestInput;
  receivedAt: number;
  started: number;
  cors: Record<string, string>;
  /** Bytes of the body once read (oa_debug's report says). */
  bytes: number | null;
}

/** How a request leaves: its answer timed, oa_debug's report, and the one exit for refusals. */
function exitsOf(deps: CollectDeps, r: CollectRequest) {
  const { input, params } = r;
  const debug = input.debug;
  const answered = (response: Response) => {
    deps.metrics.latency.observe((performance.now() - r.started) / 1000);
    return response;
  };
  const debugReport = (
    code: ErrorCode | undefined,
    event: TrackedEvent | null,
    problems: ErrorDetail[],
    warnings: Warning[],
  ) => {
    deps.metrics.received.inc();
    deps.metrics.debugged.inc();
    const report: DebugReport = {
      debug: true,
      valid: code === undefined,
      wouldRespond: code ? { status: ERRORS[code].status, code } : { status: 204 },
      event,
      problems,
      warnings,
      received: { aid: input.aid, tid: input.tid, test: input.test, bytes: r.bytes },
    };
    return answered(json(report, 200, r.cors));
  };
  /** A refusal, of the request or of one event of a batch: recorded (not oa_debug's), counted, logged. */
  const noted = (code: ErrorCode, details: ErrorDetail[], sample: string, record = !debug) => {
    if (record) recordRefusal(deps, input, input.ids, r.receivedAt, code, details, sample);
    deps.metrics.rejected.inc({ code });
    deps.log[ERRORS[code].level]("event refused", {
      code,
      aid: params.aid.slice(0, 64),
      tid: params.tid.slice(0, 64),
      ip: input.context.ip,
    });
  };
  /**
   * The one exit for a refused request: noted and answered. oa_debug is told what would
   * happen instead, unless the refusal is `hard` (rate limits, origins: those apply to it too).
   */
  const refused = (
    code: ErrorCode,
    details: ErrorDetail[],
    sample: string,
    also: {
      hard?: boolean;
      retryAfterSeconds?: number;
      event?: TrackedEvent | null;
      warnings?: Warning[];
    } = {},
  ) => {
    // A batch is not reported on as a whole: it is refused, recorded only if hard.
    if (debug && !also.hard && r.route !== "events")
      return debugReport(code, also.event ?? null, details, also.warnings ?? []);
    deps.metrics.received.inc();
    noted(code, details, sample, !debug || also.hard === true);
    const headers =
      also.retryAfterSeconds === undefined
        ? r.cors
        : { ...r.cors, "retry-after": String(also.retryAfterSeconds) };
    return answered(errorResponse(code, details, undefined, headers));
  };
  return { answered, debugReport, noted, refused };
}

type Exits = ReturnType<typeof exitsOf>;

/** The batch route's answer: what became of each event, each refusal noted. */
async function batchAnswer(
  deps: CollectDeps,
  r: CollectRequest,
  exits: Exits,
  scope: Scope,
  body: { body: unknown; text: string; unsafeInteger: boolean },
): Promise<Response> {
  const items = body.body as unknown[];
  const max = deps.limits.maxBatchEvents;
  if (items.length > max)
    return exits.refused(
      "too_many_events",
      [{ path: "", code: "too_many_events", message: `At most ${max} events per batch.` }],
      body.text.slice(0, 512),
    );
  const outcomes = await acceptBatch(scope, items, body.unsafeInteger);
  // Nothing stored: the whole batch is a 503 to retry. Some stored: each event says what
  // became of it (a 503 now would have the client send the stored ones again).
  if (
    outcomes.some((o) => o.kind === "unavailable") &&
    !outcomes.some((o) => o.kind === "stored" || o.kind === "duplicate")
  )
    return exits.refused("storage_unavailable", [], body.text.slice(0, 512));
  const results = outcomes.map((o, index): BatchResult => {
    switch (o.kind) {
      case "stored":
        return { index, status: "accepted", eventId: o.eventId };
      case "duplicate":
        return { index, status: "duplicate", eventId: o.eventId };
      case "valid":
        return { index, status: "valid", event: o.event, warnings: o.warnings };
      case "rejected":
      case "unavailable": {
        const [code, details] =
          o.kind === "rejected" ? [o.code, o.details] : ["storage_unavailable" as const, []];
        exits.noted(code, details, JSON.stringify(items[index]) ?? "");
        return {
          index,
          status: "rejected",
          error: { code, details },
          ...(r.input.debug && o.kind === "rejected" && { event: o.event, warnings: o.warnings }),
        };
      }
    }
  });
  const count = (status: string) => results.filter((x) => x.status === status).length;
  deps.metrics.received.inc(undefined, results.length);
  deps.metrics.stored.inc(undefined, count("accepted"));
  deps.metrics.duplicates.inc(undefined, count("duplicate"));
  const summary = {
    accepted: count("accepted"),
    duplicates: count("duplicate"),
    rejected: count("rejected"),
    ...(r.input.debug && { debug: true }),
    results,
  };
  return exits.answered(json(summary, 200, r.cors));
}

/** A stored (or duplicate) event's answer: 204 with its ID, or the pixel. */
function storedAnswer(route: Route, origin: string | null, eventId: string, duplicate: boolean) {
  const headers: Record<string, string> =
    origin === null ? { "x-event-id": eventId } : { ...CORS_HEADERS, "x-event-id": eventId };
  if (duplicate) headers["x-duplicate"] = "true";
  if (route === "pixel")
    return new Response(PIXEL, {
      status: 200,
      headers: { ...headers, "content-type": "image/gif", "cache-control": "no-store" },
    });
  return new Response(null, { status: 204, headers });
}

/**
 * The collect handler: one function from request to answer for every collect route, with one
 * exit for refusals (exitsOf). The policies are ingest/'s (precheck, acceptOne, acceptBatch);
 * reading the body is read-body.ts's.
 */
export function collectHandler(deps: CollectDeps) {
  // The per-route request counters, their label keys formatted once.
  const requestCounters = {
    event: deps.metrics.requests.counter({ route: "event" }),
    events: deps.metrics.requests.counter({ route: "events" }),
    get: deps.metrics.requests.counter({ route: "get" }),
    pixel: deps.metrics.requests.counter({ route: "pixel" }),
  } satisfies Record<Route, unknown>;

  const handle = async (
    route: Route,
    request: Request,
    params: { aid: string; tid: string },
    query: Record<string, string | undefined>,
    server: unknown,
  ): Promise<Response> => {
    const started = performance.now();
    requestCounters[route].inc();
    const ids = { accountId: parsePathId(params.aid), trackerId: parsePathId(params.tid) };
    const receivedAt = deps.now();
    const clientAddress = clientIp(
      deps.peerAddress(request, server),
      () => request.headers.get("x-forwarded-for"),
      deps.isTrustedProxy,
    );
    // From here on only what the tracker's IP policy keeps of the address is in the context.
    const context = requestContext(
      request,
      query,
      deps.keepIp(clientAddress, ids.accountId, ids.trackerId, receivedAt),
      !deps.includeBots,
    );
    if (context.bot) deps.metrics.bots.inc({ reason: context.bot.reason });
    const input: IngestInput = {
      aid: params.aid,
      tid: params.tid,
      ids,
      context,
      clientIp: clientAddress,
      debug: query.oa_debug === "true",
      test: query.oa_track === "false",
      gpc: request.headers.get("sec-gpc")?.trim() === "1",
    };
    const cors = context.origin === null ? NO_HEADERS : CORS_HEADERS;
    const r: CollectRequest = {
      route,
      params,
      input,
      receivedAt,
      started,
      cors,
      bytes: null,
    };
    const exits = exitsOf(deps, r);

    const scope = precheck(deps, input, r.receivedAt);
    if ("code" in scope) return exits.refused(scope.code, scope.details, "", scope);
    const body =
      route === "events"
        ? await readEventBody(request, deps.limits.maxBatchBytes, deps.limits.maxDepth, "array")
        : route === "event"
          ? await readEventBody(request, deps.limits.maxBodyBytes, deps.limits.maxDepth)
          : ({ ok: true, ...queryBody(request.url), bytes: 0 } as const);
    if (!body.ok) return exits.refused(body.code, body.details, body.sample);
    r.bytes = body.bytes;
    const proved = proveSender(
      deps,
      input,
      scope.accountId,
      scope.trackerId,
      {
        signature: request.headers.get(SIGNATURE_HEADER),
        authorization: request.headers.get("authorization"),
        signed: () => ("raw" in body ? body.raw : queryBytes(request.url)),
      },
      r.receivedAt,
    );
    if ("code" in proved) return exits.refused(proved.code, proved.details, body.text);
    const scoped: Scope = {
      deps,
      input,
      ...scope,
      receivedAt: r.receivedAt,
      replayKey: proved.replayKey,
    };
    if (route === "events") return batchAnswer(deps, r, exits, scoped, body);

    const outcome = await acceptOne(
      scoped,
      body.body as Record<string, unknown>,
      body.unsafeInteger,
    );
    switch (outcome.kind) {
      case "stored":
      case "duplicate":
        deps.metrics.received.inc();
        (outcome.kind === "stored" ? deps.metrics.stored : deps.metrics.duplicates).inc();
        return exits.answered(
          storedAnswer(route, context.origin, outcome.eventId, outcome.kind === "duplicate"),
        );
      case "valid":
        return exits.debugReport(undefined, outcome.event, [], outcome.warnings);
      case "rejected":
        return exits.refused(outcome.code, outcome.details, body.text, outcome);
      case "unavailable":
        return exits.refused("storage_unavailable", [], body.text);
    }
  };

  const preflight = () => {
    deps.metrics.preflights.inc();
    return new Response(null, { status: 204, headers: PREFLIGHT_HEADERS });
  };
  return { handle, preflight };
}

type Handle = ReturnType<typeof collectHandler>["handle"];
const NO_QUERY: Record<string, string | undefined> = {};

/** The query string's parameters (first value of each), without parsing a URL when there is none. */
function queryOf(url: string): Record<string, string | undefined> {
  const at = url.indexOf("?");
  if (at < 0) return NO_QUERY;
  const query: Record<string, string | undefined> = {};
  for (const [k, v] of new URLSearchParams(url.slice(at + 1))) query[k] ??= v;
  return query;
}

/** One collect request end to end, whichever router took it (Elysia's, or a runtime's own: runtime/bun.ts). */
export type CollectEndpoint = (
  route: Route,
  request: Request,
  params: Record<string, string>,
  server: unknown,
) => Promise<Response>;

/** The path IDs and query read the same way for every router, the handler, and a JSON 500 for the unexpected. */
export function collectEndpoint(handle: Handle, log: CollectDeps["log"]): CollectEndpoint {
  return async (route, request, params, server) => {
    try {
      return await handle(
        route,
        request,
        pathParams(params as { aid: string; tid: string }),
        queryOf(request.url),
        server,
      );
    } catch (err) {
      log.error("unhandled error", { route: "collect", error: String(err) });
      return errorResponse("internal_error");
    }
  };
}

/** The collect routes around the collect endpoint (a runtime may also serve POST .../event natively). */
export function collectRoutes(endpoint: CollectEndpoint, preflight: () => Response) {
  const path = "/collect/:aid/:tid/event";
  return new Elysia({ name: "collect" })
    .options(path, preflight)
    .options(`${path}s`, preflight)
    .post(path, ({ request, params, server }) => endpoint("event", request, params, server), {
      parse: "none",
    })
    .post(
      `${path}s`,
      ({ request, params, server }) => endpoint("events", request, params, server),
      { parse: "none" },
    )
    .get(path, ({ request, params, server }) => endpoint("get", request, params, server))
    .get(`${path}.gif`, ({ request, params, server }) => endpoint("pixel", request, params, server))
    .all(path, () =>
      errorResponse("method_not_allowed", [], undefined, { allow: "GET, POST, OPTIONS" }),
    )
    .all(`${path}s`, () =>
      errorResponse("method_not_allowed", [], undefined, { allow: "POST, OPTIONS" }),
    );
}
