/**
 * createApp(deps): the whole HTTP surface as one Elysia app. No I/O at import time; every real
 * part (store, registry, clock, log) is passed in, so tests build it around a temp store.
 */
import { Elysia, type AnyElysia } from "elysia";
import type { Config } from "./config/schema.ts";
import { errorResponse, type ErrorDetail } from "./errors.ts";
import { adminRoutes } from "./http/admin.ts";
import { trustedProxyMatcher, type PeerAddress } from "./http/client-ip.ts";
import {
  collectEndpoint,
  collectHandler,
  collectRoutes,
  type CollectDeps,
  type CollectEndpoint,
} from "./http/collect.ts";
import { healthRoutes } from "./http/health.ts";
import { frontDoor, originalRequest } from "./http/request-target.ts";
import { Registry } from "./registry/registry.ts";
import { RateLimiter } from "./ingest/rate-limit.ts";
import type { Store } from "./store/open-store.ts";
import type { Log } from "./telemetry/log.ts";
import { Metrics } from "./telemetry/metrics.ts";
import type { Delivery } from "./delivery/sink-loops.ts";
import { deliveryAdminRoutes } from "./http/delivery-admin.ts";
import { adminSessionRoutes } from "./http/admin-session.ts";
import { AdminAuth, type GateContext } from "./http/admin-auth.ts";
import { checkAdminRoutes } from "./http/check-admin.ts";
import { eventStreamRoutes } from "./http/event-stream.ts";
import { overviewAdminRoutes } from "./http/overview-admin.ts";
import { registryAdminRoutes } from "./http/registry-admin.ts";
import { attributionAdminRoutes } from "./http/attribution-admin.ts";
import { journeyAdminRoutes } from "./http/journey-admin.ts";
import { journeyReader, leadTouchesOf } from "./http/leads-query.ts";
import type { JourneyReader } from "./journey/journey.ts";
import { conversionsAdminRoutes } from "./http/conversions-admin.ts";
import { trackerSecretRoutes } from "./http/tracker-secrets-admin.ts";
import { keptIp } from "./ingest/ip-policy.ts";
import { dayOf } from "./store/pii-keys.ts";
import { credentialsAdminRoutes } from "./http/credentials-admin.ts";
import { erasureAdminRoutes } from "./http/erasure-admin.ts";
import { exportCredentialRoutes } from "./http/export-credential-admin.ts";

export interface AppDeps {
  config: Config;
  store: Store;
  adminToken: string;
  log: Log;
  now?: () => number;
  draining?: () => boolean;
  metrics?: Metrics;
  /** Delivery to the sinks, running; without it, the delivery routes are absent. */
  delivery?: Delivery;
  /** Shared when start.ts builds two apps (collect and admin on separate addresses). */
  registry?: Registry;
  /** Why storage is full (at its cap, or the disk at its margin: Retention), or null. */
  storageFull?: () => string | null;
  /** The socket peer of a request, the runtime's way (runtime/); none without one (in-process). */
  peerAddress?: PeerAddress;
  /** The rate limits' buckets, shared by both apps when start.ts builds two; new ones without. */
  rateLimits?: RateLimiter;
}

const endpoints = new WeakMap<AnyElysia, CollectEndpoint>();

/** The collect endpoint of an app built with its collect side, for a runtime that routes it natively (runtime/bun.ts). */
export function collectEndpointOf(app: AnyElysia): CollectEndpoint | undefined {
  return endpoints.get(app);
}

/** An app with the error envelope and the health routes, that the sides are added to. */
function baseApp(
  log: Log,
  draining: () => boolean,
  storageFull: () => string | null,
  writable: () => Promise<boolean>,
): AnyElysia {
  const app: AnyElysia = new Elysia()
    // Before routing: an invalid Host is refused, and a request the router would read the
    // wrong path of is routed again under an authority it reads right (request-target.ts).
    .onRequest(({ request }) => {
      const door = frontDoor(request);
      return door instanceof Request ? app.handle(door) : door;
    })
    .onError(({ code, error }) => {
      switch (code) {
        case "NOT_FOUND":
          return errorResponse("not_found");
        case "VALIDATION": {
          const details: ErrorDetail[] = error.all.map((e) => ({
            path: "path" in e ? e.path : "",
            code: "invalid_value",
            message: e.summary ?? ("message" in e ? String(e.message) : "invalid"),
          }));
          return errorResponse("invalid_request", details);
        }
        case "PARSE":
          return errorResponse("invalid_json");
        default:
          log.error("unhandled error", { code: String(code), error: String(error) });
          return errorResponse("internal_error");
      }
    })
    .use(healthRoutes({ draining, storageFull, writable }));
  return app;
}

/** Admin bodies are read by their handlers after the gate (readJsonBody): Elysia parses none. */
const BODY_NOT_READ = Symbol("admin body not read by Elysia");

/** Headers on every admin API answer: nothing in it is a page or a script, nor kept by a cache. */
const ADMIN_API_HEADERS = { "x-content-type-options": "nosniff", "cache-control": "no-store" };

/** Adds the collect side (the collect routes, /metrics) to an app. */
function addCollectSide(app: AnyElysia, deps: CollectDeps): void {
  const collect = collectHandler(deps);
  const endpoint = collectEndpoint(collect.handle, deps.log);
  endpoints.set(app, endpoint);
  app.use(collectRoutes(endpoint, collect.preflight)).get(
    "/metrics",
    () =>
      new Response(deps.metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      }),
  );
}

/** What is kept of a client's address: its tracker's IP policy, else pii.ip (ingest/ip-policy.ts). */
function ipKeeper(deps: AppDeps, registry: Registry): CollectDeps["keepIp"] {
  // Hashed under a key of the day, made from (and gone with) that day's customer key.
  const hashKey = (ms: number) => deps.store.contacts.keys.derived(dayOf(ms), "ip-hash");
  return (ip, accountId, trackerId, receivedMs) => {
    const tracker =
      accountId !== null && trackerId !== null ? registry.tracker(accountId, trackerId) : null;
    return keptIp(ip, tracker?.ip ?? deps.config.pii.ip, hashKey, receivedMs);
  };
}

/**
 * The admin routes that change how trackd works rather than read what it holds: the registry,
 * trackers' secrets, credentials, export credentials and erasure.
 */
function settingsRoutes(
  deps: AppDeps,
  registry: Registry,
  reader: JourneyReader,
  now: () => number,
): AnyElysia {
  return new Elysia()
    .use(registryAdminRoutes({ registry, secrets: deps.store.trackerSecrets }))
    .use(trackerSecretRoutes({ registry, secrets: deps.store.trackerSecrets, now }))
    .use(
      credentialsAdminRoutes({
        credentials: deps.store.adminCredentials,
        accessLog: deps.store.accessLog,
        registry,
        seenAccounts: () => deps.store.stats.accounts(),
        now,
      }),
    )
    .use(exportCredentialRoutes({ credentials: deps.store.exportCredentials, now }))
    .use(
      erasureAdminRoutes({
        store: deps.store,
        reader,
        registry,
        journey: deps.config.journey,
        leads: deps.config.leads,
        phoneCountry: deps.config.pii.defaultCountry,
        log: deps.log,
        now,
      }),
    );
}

/**
 * Builds the app: the collect side (collect route, /metrics) and the admin side (/admin/api),
 * both by default; start.ts splits them when the admin listens on its own address.
 */
export function createApp(
  deps: AppDeps,
  parts: { collect: boolean; admin: boolean } = { collect: true, admin: true },
): AnyElysia {
  const draining = deps.draining ?? (() => false);
  const metrics = deps.metrics ?? new Metrics();
  const delivery = deps.delivery;
  const registry = deps.registry ?? new Registry(deps.store.registry, deps.config.registry);
  const now = deps.now ?? Date.now;
  const runtimePeer = deps.peerAddress ?? (() => null);
  // A request the front door routed again is a copy: its peer is the original's.
  const peerAddress: PeerAddress = (request, server) =>
    runtimePeer(originalRequest(request), server);
  const adminToken = deps.adminToken;
  metrics.onScrape(() => {
    metrics.storageBytes.set({}, deps.store.usedBytes());
    metrics.storageCap.set({}, deps.config.storageMaxBytes);
    metrics.storedNow.set({}, deps.store.events.count());
  });
  const storageFull = deps.storageFull ?? (() => null);
  const app = baseApp(deps.log, draining, storageFull, () => deps.store.writable());
  if (parts.collect)
    addCollectSide(app, {
      events: deps.store.events,
      rejects: deps.store.rejects,
      registry,
      limits: deps.config.limits,
      log: deps.log,
      now,
      storageFull: () => storageFull() !== null,
      rateLimits: deps.rateLimits ?? new RateLimiter(deps.config.rateLimits),
      allowedOrigins: (accountId, trackerId) =>
        registry.tracker(accountId, trackerId)?.allowedOrigins ?? [],
      metrics,
      isTrustedProxy: trustedProxyMatcher(deps.config.trustedProxies),
      peerAddress,
      draining,
      phoneCountry: deps.config.pii.defaultCountry,
      keepIp: ipKeeper(deps, registry),
      includeBots: deps.config.journey.includeBots,
      trackerSecrets: deps.store.trackerSecrets,
    });

  if (parts.admin) {
    const auth = new AdminAuth({
      adminToken,
      revoked: deps.store.revokedSessions,
      log: deps.log,
      now,
      peerAddress,
      isTrustedProxy: trustedProxyMatcher(deps.config.trustedProxies),
      metrics,
      exportCredentials: deps.store.exportCredentials,
      credentials: deps.store.adminCredentials,
      accessLog: deps.store.accessLog,
    });
    const queryTimeoutMs = deps.config.admin.queryTimeoutSeconds * 1000;
    const reader = journeyReader(deps.store.events, registry);
    const leadsDeps = {
      reader,
      touches: leadTouchesOf(deps.store.events, reader, registry, deps.config),
      journey: deps.config.journey,
      leads: deps.config.leads,
      attribution: deps.config.attribution,
      queryTimeoutMs,
      now,
      deliveries: deps.store.leadDeliveries,
      contacts: deps.store.contacts,
    };
    const gated = new Elysia()
      .onBeforeHandle(
        (context: GateContext) => auth.requireAdmin(context) ?? auth.checkRequest(context),
      )
      .use(eventStreamRoutes({ events: deps.store.events }))
      .use(
        adminRoutes({
          store: deps.store,
          whereIs: delivery && ((id, json) => delivery.whereIs(id, json)),
          queryTimeoutMs,
        }),
      )
      .use(settingsRoutes(deps, registry, reader, now))
      .use(
        checkAdminRoutes({
          registry,
          store: deps.store,
          now,
          queryTimeoutMs,
        }),
      )
      .use(journeyAdminRoutes(leadsDeps))
      .use(attributionAdminRoutes(leadsDeps))
      .use(
        overviewAdminRoutes({
          store: deps.store,
          registry,
          delivery,
          capBytes: deps.config.storageMaxBytes,
          now,
          queryTimeoutMs,
        }),
      );
    if (delivery) gated.use(deliveryAdminRoutes({ delivery, store: deps.store.delivery }));
    // The admin API under one prefix. Its gate is a hook on the routes the router matched
    // here, not a check of the path beside the router, so no spelling of a request reaches an
    // admin handler without it; and it runs before any body is read (AdminAuth).
    app.group("/admin/api", (api) =>
      api
        .onParse(() => BODY_NOT_READ)
        .onBeforeHandle(({ set }) => {
          Object.assign(set.headers, ADMIN_API_HEADERS);
        })
        // Logging in and out, and asking whether one is: no token needed.
        .use(
          new Elysia()
            .onBeforeHandle((context: GateContext) => auth.checkPublicRequest(context))
            .use(adminSessionRoutes(auth)),
        )
        .use(gated)
        // The conversion files: also an account's export credential (admin-access.ts).
        .use(
          new Elysia()
            .onBeforeHandle(
              (context: GateContext) => auth.requireAdmin(context) ?? auth.checkRequest(context),
            )
            .use(conversionsAdminRoutes(leadsDeps)),
        ),
    );
  }
  return app;
}

export type App = ReturnType<typeof createApp>;
