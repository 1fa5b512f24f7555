/**
 * POST /collect/{aid}/{tid}/event: the collect route, its CORS preflight, and 405 for every
 * other method. The body is read raw (parse: "none") so text/plain, no content type and
 * compressed bodies are all handled by read-body.ts rather than Elysia's parsers.
 */
import { Elysia } from "elysia";
import type { Server } from "bun";
import { ERRORS, errorResponse } from "../errors.ts";
import type { EventContext } from "../events/event.model.ts";
import { ingest, type IngestDeps } from "../events/ingest.ts";
import { clientIp } from "./client-ip.ts";
import { readEventBody } from "./read-body.ts";
import type { Metrics } from "../telemetry/metrics.ts";

export interface CollectDeps extends IngestDeps {
  metrics: Metrics;
  isTrustedProxy: (ip: string) => boolean;
  /** True once shutdown has begun: new events are refused with 503. */
  draining: () => boolean;
}

/**
 * Any page may post events; no credentials are involved, so "*" is safe. Only requests that
 * carry Origin (every browser POST does) get the CORS headers: they mean nothing to a server
 * client, and each response header costs measurable time on the hot path.
 */
export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "X-Event-Id",
};
const NO_HEADERS = {};

const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "Content-Type, Content-Encoding",
  "access-control-max-age": "86400",
};

const MAX_HEADER_CHARS = 1024;

const header = (request: Request, name: string) => request.headers.get(name)?.slice(0, MAX_HEADER_CHARS) ?? null;

/** Who sent it and from where, as far as the request tells. */
function requestContext(request: Request, server: Server<unknown> | null, isTrusted: (ip: string) => boolean): EventContext {
  const peer = server?.requestIP(request)?.address ?? null;
  const origin = header(request, "origin");
  // Browsers send Origin on cross-site POSTs and Sec-Fetch-* on every fetch and beacon.
  const browser = origin !== null || request.headers.has("sec-fetch-mode") || request.headers.has("sec-fetch-site");
  return {
    ip: clientIp(peer, () => request.headers.get("x-forwarded-for"), isTrusted),
    userAgent: header(request, "user-agent"),
    origin,
    referer: header(request, "referer"),
    source: browser ? "browser" : "server",
  };
}

/** The collect routes, wired to their dependencies. */
export function collectRoutes(deps: CollectDeps) {
  const path = "/collect/:aid/:tid/event";
  return new Elysia({ name: "collect" })
    .options(path, () => new Response(null, { status: 204, headers: PREFLIGHT_HEADERS }))
    .post(
      path,
      async ({ request, params, query, server }) => {
        const started = performance.now();
        deps.metrics.received.inc();
        const debug = query.oa_debug === "true";
        const context = requestContext(request, server, deps.isTrustedProxy);
        const cors = context.origin === null ? NO_HEADERS : CORS_HEADERS;
        if (deps.draining() && !debug) return errorResponse("shutting_down", [], undefined, cors);
        const outcome = await ingest(deps, {
          aid: params.aid,
          tid: params.tid,
          readBody: () => readEventBody(request, deps.limits.maxBodyBytes, deps.limits.maxDepth),
          context,
          debug,
          test: query.oa_track === "false",
        });
        deps.metrics.latency.observe((performance.now() - started) / 1000);
        switch (outcome.kind) {
          case "stored":
            deps.metrics.stored.inc();
            return new Response(null, { status: 204, headers: context.origin === null ? { "x-event-id": outcome.eventId } : { ...CORS_HEADERS, "x-event-id": outcome.eventId } });
          case "debug":
            return new Response(JSON.stringify(outcome.report), { status: 200, headers: { ...cors, "content-type": "application/json" } });
          case "error":
            deps.metrics.rejected.inc({ code: outcome.code });
            deps.log[ERRORS[outcome.code].level]("event refused", { code: outcome.code, aid: params.aid.slice(0, 64), tid: params.tid.slice(0, 64), ip: context.ip });
            return errorResponse(outcome.code, outcome.details, outcome.message, cors);
        }
      },
      { parse: "none" },
    )
    .all(path, () => errorResponse("method_not_allowed", [], undefined, { allow: "POST, OPTIONS" }));
}
