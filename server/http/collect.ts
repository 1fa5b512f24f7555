/**
 * POST /collect/{aid}/{tid}/event: the collect route, its CORS preflight, and 405 for every
 * other method. The body is read raw (parse: "none") so text/plain, no content type and
 * compressed bodies are all handled by read-body.ts rather than Elysia's parsers.
 */
import { Elysia } from "elysia";
import { ERRORS, errorResponse } from "../errors.ts";
import type { EventContext } from "../events/event.model.ts";
import { ingest, type IngestDeps, type IngestInput } from "../ingest/ingest.ts";
import { ingestBatch } from "../ingest/ingest-batch.ts";
import { parsePathId } from "../events/ids.ts";
import { pathParams } from "./params.ts";
import { clientIp, type PeerAddress } from "./client-ip.ts";
import { readEventBody } from "./read-body.ts";
import type { Metrics } from "../telemetry/metrics.ts";

export interface CollectDeps extends IngestDeps {
  metrics: Metrics;
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

/** Who sent it and from where, as far as the request tells. */
function requestContext(
  request: Request,
  query: Record<string, string | undefined>,
  peer: string | null,
  isTrusted: (ip: string) => boolean,
): EventContext {
  const origin = header(request, "origin");
  const browser = isBrowser(request, origin, query);
  return {
    ip: clientIp(peer, () => request.headers.get("x-forwarded-for"), isTrusted),
    userAgent: header(request, "user-agent"),
    origin,
    referer: header(request, "referer"),
    source: browser ? "browser" : "server",
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

export type Route = "event" | "events" | "get" | "pixel";

/** The collect handler: one function for every collect route, wired to its dependencies. */
export function collectHandler(deps: CollectDeps) {
  // The per-route request counters, their label keys formatted once.
  const requestCounters = {
    event: deps.metrics.requests.counter({ route: "event" }),
    events: deps.metrics.requests.counter({ route: "events" }),
    get: deps.metrics.requests.counter({ route: "get" }),
    pixel: deps.metrics.requests.counter({ route: "pixel" }),
  } satisfies Record<Route, unknown>;
  /** Everything the routes share: the request's context, the pipeline (ingest.ts), metrics, CORS and the answer. */
  const handle = async (
    route: Route,
    request: Request,
    params: { aid: string; tid: string },
    query: Record<string, string | undefined>,
    server: unknown,
  ): Promise<Response> => {
    const started = performance.now();
    requestCounters[route].inc();
    const debug = query.oa_debug === "true";
    const context = requestContext(
      request,
      query,
      deps.peerAddress(request, server),
      deps.isTrustedProxy,
    );
    const cors = context.origin === null ? NO_HEADERS : CORS_HEADERS;
    /** Every refusal is answered here, counted and logged (the pipeline has recorded it). */
    const refuse = (outcome: {
      code: Parameters<typeof errorResponse>[0];
      details: Parameters<typeof errorResponse>[1];
      retryAfterSeconds?: number;
    }) => {
      const { code } = outcome;
      deps.metrics.received.inc();
      deps.metrics.rejected.inc({ code });
      deps.log[ERRORS[code].level]("event refused", {
        code,
        aid: params.aid.slice(0, 64),
        tid: params.tid.slice(0, 64),
        ip: context.ip,
      });
      return errorResponse(
        code,
        outcome.details,
        undefined,
        outcome.retryAfterSeconds === undefined
          ? cors
          : { ...cors, "retry-after": String(outcome.retryAfterSeconds) },
      );
    };
    const aid = parsePathId(params.aid);
    const tid = parsePathId(params.tid);

    const input: IngestInput = {
      aid: params.aid,
      tid: params.tid,
      ids: { accountId: aid, trackerId: tid },
      readBody:
        route === "events"
          ? () => readEventBody(request, deps.limits.maxBatchBytes, deps.limits.maxDepth, "array")
          : route === "event"
            ? () => readEventBody(request, deps.limits.maxBodyBytes, deps.limits.maxDepth)
            : async () => ({ ok: true, ...queryBody(request.url), bytes: 0 }),
      context,
      debug,
      test: query.oa_track === "false",
    };

    if (route === "events") {
      const outcome = await ingestBatch(deps, input, deps.limits.maxBatchEvents);
      deps.metrics.latency.observe((performance.now() - started) / 1000);
      if (outcome.kind === "error") return refuse(outcome);
      const count = (status: string) => outcome.results.filter((r) => r.status === status).length;
      deps.metrics.received.inc(undefined, outcome.results.length);
      deps.metrics.stored.inc(undefined, count("accepted"));
      deps.metrics.duplicates.inc(undefined, count("duplicate"));
      for (const r of outcome.results)
        if (r.error) deps.metrics.rejected.inc({ code: r.error.code });
      const summary = {
        accepted: count("accepted"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        ...(debug && { debug: true }),
        results: outcome.results,
      };
      return new Response(JSON.stringify(summary), {
        status: 200,
        headers: { ...cors, "content-type": "application/json" },
      });
    }

    const outcome = await ingest(deps, input);
    deps.metrics.latency.observe((performance.now() - started) / 1000);
    switch (outcome.kind) {
      case "stored":
      case "duplicate": {
        deps.metrics.received.inc();
        (outcome.kind === "stored" ? deps.metrics.stored : deps.metrics.duplicates).inc();
        const headers: Record<string, string> =
          context.origin === null
            ? { "x-event-id": outcome.eventId }
            : { ...CORS_HEADERS, "x-event-id": outcome.eventId };
        if (outcome.kind === "duplicate") headers["x-duplicate"] = "true";
        if (route === "pixel")
          return new Response(PIXEL, {
            status: 200,
            headers: { ...headers, "content-type": "image/gif", "cache-control": "no-store" },
          });
        return new Response(null, { status: 204, headers });
      }
      case "debug":
        deps.metrics.received.inc();
        deps.metrics.debugged.inc();
        return new Response(JSON.stringify(outcome.report), {
          status: 200,
          headers: { ...cors, "content-type": "application/json" },
        });
      case "error":
        return refuse(outcome);
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
