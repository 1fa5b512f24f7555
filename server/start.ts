/**
 * Starting trackd: the only place that wires real parts together (config, store, admin
 * token, app, signals) and, through the runtime seam, the only place that listens. The entry
 * points (main.ts for Bun, main-deno.ts for Deno) call start() with their runtime.
 */
import { resolve } from "node:path";
import { createApp } from "./app.ts";
import { COMMAND_USAGE, runCommand } from "./commands.ts";
import { ensureAdminToken } from "./auth/admin-token.ts";
import { ConfigError, loadConfig, usage } from "./config/load.ts";
import { openStore, type Store } from "./store/open-store.ts";
import { StoreFormatError } from "./store/store-format.ts";
import { DataDirInUse, lockDataDir } from "./store/data-dir-lock.ts";
import { BUILD, VERSION } from "./version.ts";
import { createLog, type Log } from "./telemetry/log.ts";
import { Metrics } from "./telemetry/metrics.ts";
import { SinkLoops } from "./delivery/sink-loops.ts";
import { Pacer } from "./delivery/pacer.ts";
import { createSinks } from "./sinks/kinds.ts";
import { Retention } from "./store/retention.ts";
import { Registry } from "./registry/registry.ts";
import { RateLimiter } from "./ingest/rate-limit.ts";
import { type Listener, type Runtime, TRANSPORT_BODY_CAP } from "./runtime/runtime.ts";
import type { AppDeps } from "./app.ts";
import type { Config } from "./config/schema.ts";
import { readTlsFiles, TlsError, type TlsFiles } from "./http/tls-files.ts";
import { journeyReader } from "./http/leads-query.ts";
import { leadFacts } from "./journey/lead-facts.ts";
import { leadRule } from "./journey/lead-rule.ts";
import { isStage } from "./journey/conversions.ts";
import type { TrackedEvent } from "./events/event.model.ts";
import { AdfConfigError } from "./sinks/adf/adf-config.ts";
import type { SinkContext } from "./sinks/types.ts";

/** Loads the configuration, opens the store, serves, and handles SIGTERM/SIGINT until exit. */
export async function start(runtime: Runtime): Promise<void> {
  // Everything trackd creates is its own: events hold client IP addresses. Files 0600,
  // directories 0700 (LMDB's, the sinks' files, the admin token).
  process.umask(0o077);
  const command = await runCommand(process.argv.slice(2), process.env);
  if (command !== null) process.exit(command);
  const config = configured(runtime);
  // Under systemd stderr goes to the journal: lines carry their priority (telemetry/log.ts).
  const journal = process.env.JOURNAL_STREAM !== undefined;
  const log = createLog(config.logLevel, undefined, journal);
  const dataDir = resolve(config.dataDir);
  process.on("unhandledRejection", (reason) =>
    log.error("unhandled rejection", { error: String(reason) }),
  );

  orExit(() => lockDataDir(dataDir, runtime.tryLock), DataDirInUse);
  const store = orExit(
    () =>
      openStore({
        dataDir,
        durability: config.durability,
        rejectLogSize: config.rejectLogSize,
        dedupeWindowMs: config.dedupeWindowSeconds * 1000,
        log,
        storageMaxBytes: config.storageMaxBytes,
        piiKeyFile: config.pii.keyFile,
        accessLogKeepMs: config.admin.accessLogDays * 86_400_000,
      }),
    StoreFormatError,
    (err) => log.error("cannot open the data directory", { dataDir, error: err.message }),
  );
  const admin = ensureAdminToken(dataDir, process.env.TRACKD_ADMIN_TOKEN);
  let tls = orExit(
    () => readTlsFiles(config.tls),
    TlsError,
    (err) => log.error("cannot start HTTPS", { error: err.message }),
  );

  const metrics = new Metrics();
  const registry = new Registry(store.registry, config.registry);
  let adminPage: string | null = null; // known once listening
  const delivery = deliveryOf(config, dataDir, store, registry, log, metrics, () => adminPage);
  const retention = new Retention(store, {
    retentionMs: config.retentionSeconds * 1000,
    lookbackMs: config.attribution.lookbackDays * 86_400_000,
    piiRetentionMs: config.pii.retentionDays * 86_400_000,
    keepForLookback: leadsAndStages(config),
    capBytes: config.storageMaxBytes,
    minFreeBytes: config.storageMinFreeBytes,
    dataDir,
    minCursor: () => delivery.minCursor(),
    log,
  });
  // At the margin nothing trackd writes for itself grows the store: the reject log and the
  // per-tracker counters wait in memory until there is room.
  store.rejects.held = store.stats.held = () => retention.isFull();

  let draining = false;
  const listeners = listen(runtime, config, log, tls, {
    config,
    store,
    adminToken: admin.token,
    log,
    metrics,
    delivery,
    registry,
    rateLimits: new RateLimiter(config.rateLimits),
    storageFull: () => retention.fullReason(),
    draining: () => draining,
    peerAddress: runtime.peerAddress,
  });
  const { server, adminServer } = listeners;
  const { adminUrl } = listeners;
  adminPage = `${adminUrl}/admin`;
  if (config.workers !== undefined)
    log.warn(
      "workers is ignored: trackd serves on one thread; to use more cores run more processes (docs/performance.md, More cores)",
      { workers: config.workers },
    );
  if (admin.created) {
    // A JSON line like every other (a log collector reads whole lines), naming the token's
    // file, not the token: a secret does not belong in logs. A person at a terminal also gets
    // the token itself, once.
    log.info("admin token made: log in to the admin page with the token kept in its file", {
      file: admin.file,
      adminPage: `${adminUrl}/admin`,
    });
    if (process.stderr.isTTY)
      process.stderr.write(
        `\nAdmin token (shown once, kept in ${admin.file}):\n  ${admin.token}\nAdmin page: ${adminUrl}/admin (log in with the token)\nAdmin API:  curl -H "Authorization: Bearer ${admin.token}" ${adminUrl}/admin/api/events\n\n`,
      );
  }
  delivery.start();
  retention.start();
  log.info("trackd listening", {
    address: `${config.host}:${server.port}`,
    url: listeners.url,
    dataDir,
    durability: config.durability,
    storedEvents: store.events.count(),
    sinks: config.sinks.map((s) => `${s.name} (${s.kind})`),
    admin: `${adminUrl}/admin`,
    runtime: `${runtime.name} ${runtime.version}`,
    version: VERSION,
    build: BUILD,
    ...(tls && { tls: { subject: tls.subject, validTo: tls.validTo } }),
  });

  /** SIGHUP: a renewed certificate is read and served to new connections; no restart. */
  async function reloadCertificate() {
    if (!tls) {
      log.info("SIGHUP: nothing to reload (tls.certFile is not set)");
      return;
    }
    try {
      const renewed = readTlsFiles(config.tls)!;
      const pair = { cert: renewed.cert, key: renewed.key };
      await server.reloadTls(pair);
      await adminServer?.reloadTls(pair);
      tls = renewed;
      log.info("certificate reloaded", { subject: renewed.subject, validTo: renewed.validTo });
    } catch (err) {
      log.error("certificate not reloaded: still serving the previous one", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  async function shutdown(signal: string) {
    if (draining) return;
    draining = true;
    log.info("shutting down", { signal });
    const timeout = setTimeout(() => {
      log.warn("in-flight requests did not finish in time; closing", {
        timeoutMs: config.shutdownTimeoutMs,
      });
      void server.stop(true);
    }, config.shutdownTimeoutMs);
    // Stop accepting; in-flight collect requests are answered.
    await Promise.all([server.stop(false), adminServer?.stop(true)]);
    clearTimeout(timeout);
    // The delivery finishes (or abandons, to be resent) its in-flight batches before LMDB closes.
    await delivery.stop(config.shutdownTimeoutMs);
    await retention.stop();
    await store.close();
    log.info("stopped", { signal });
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGHUP", () => void reloadCertificate());
}

/** The configuration from the arguments and environment; --version and --help answer and exit. */
function configured(runtime: Runtime): Config {
  const loaded = orExit(() => loadConfig(process.argv.slice(2), process.env), ConfigError, null, 2);
  if (loaded.version) {
    console.log(
      `trackd ${VERSION} (build ${BUILD}; ${runtime.name} ${runtime.version}, ${process.platform}-${process.arch})`,
    );
    process.exit(0);
  }
  if (loaded.help) {
    console.log(`trackd ${VERSION}\n${usage()}\n\n${COMMAND_USAGE}`);
    process.exit(0);
  }
  return loaded.config;
}

/**
 * The listeners: one for everything, or with admin.port set, the admin page and API apart (say
 * on loopback only) and the public one serving only the collect side.
 */
function listen(
  runtime: Runtime,
  config: Config,
  log: Log,
  tls: TlsFiles | null,
  deps: AppDeps,
): { server: Listener; adminServer: Listener | null; url: string; adminUrl: string } {
  const options = {
    maxRequestBodySize: TRANSPORT_BODY_CAP,
    // Closes connections idle, or stalled mid-request (slowloris), for this long. The admin
    // page's live stream sends a comment every 5 s, so the minimum is 6.
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    tls: tls && { cert: tls.cert, key: tls.key },
  };
  const separateAdmin = config.admin.port > 0;
  const app = separateAdmin
    ? createApp(deps, { collect: true, admin: false })
    : runtime.withAdminPage(createApp(deps));
  const { server, adminServer } = orExit(
    () => ({
      server: runtime.serve(app, { hostname: config.host, port: config.port, ...options }),
      adminServer: separateAdmin
        ? runtime.serve(runtime.withAdminPage(createApp(deps, { collect: false, admin: true })), {
            hostname: config.admin.host,
            port: config.admin.port,
            ...options,
          })
        : null,
    }),
    // Bun says "Failed to start server. Is port 8080 in use?"; Deno, "Address already in use".
    Error,
    (err) =>
      log.error("cannot listen", { host: config.host, port: config.port, error: err.message }),
    1,
    "cannot listen: ",
  );
  const origin = (host: string, port: number) =>
    `${tls ? "https" : "http"}://${host === "0.0.0.0" ? "localhost" : host}:${port}`;
  const url = origin(config.host, server.port);
  return {
    server,
    adminServer,
    url,
    adminUrl: adminServer ? origin(config.admin.host, adminServer.port) : url,
  };
}

/**
 * `run()`'s value; an error of the class `known` ends the process with its message on stderr
 * (after `logged`, which may log it) and exit code `code`. Anything else is a bug: thrown.
 */
/**
 * Delivery, one loop per configured sink. It runs on this thread: measured beside a thread of
 * its own, ingest kept more of its rate while a backlog drained (docs/performance.md). The
 * pacer holds a sink that is catching up to a multiple of the arrival rate.
 */
function deliveryOf(
  config: Config,
  dataDir: string,
  store: Store,
  registry: Registry,
  log: Log,
  metrics: Metrics,
  adminPage: () => string | null,
): SinkLoops {
  const sinks = orExit(
    () => createSinks(config.sinks, dataDir, sinkContext(config, store, registry, adminPage)),
    AdfConfigError,
    (err) => log.error("invalid configuration", { error: err.message }),
  );
  return new SinkLoops(
    sinks.map((sink, i) => ({ sink, delivery: config.sinks[i]!.delivery })),
    {
      events: store.events,
      delivery: store.delivery,
      metrics,
      log,
      now: Date.now,
      pacer: new Pacer(),
    },
  );
}

/** Leads and their later stages: retention keeps them for the lookback (the conversion files read both). */
function leadsAndStages(config: Config): (event: TrackedEvent) => boolean {
  const isLead = leadRule(config.leads);
  return (event) => isLead(event) || isStage(event);
}

/** What the ADF sink reads: the lead rule, each lead's facts, its deliveries' records. */
function sinkContext(
  config: Config,
  store: Store,
  registry: Registry,
  adminPage: () => string | null,
): SinkContext {
  const isLead = leadRule(config.leads);
  const deps = {
    reader: journeyReader(store.events, registry),
    journey: config.journey,
    isLead,
    lookbackMs: config.attribution.lookbackDays * 86_400_000,
    contact: (eventId: string, had: boolean) => store.contacts.open(eventId, had),
    dealerName: (accountId: string) => registry.account(accountId)?.name ?? null,
    adminUrl: adminPage,
  };
  return {
    isLead,
    leadFacts: (lead) => leadFacts(deps, lead),
    deliveries: store.leadDeliveries,
    customer: (eventId) => {
      const c = store.contacts.open(eventId, true);
      return c.state === "kept" ? c.customer : null;
    },
    now: Date.now,
  };
}

function orExit<T>(
  run: () => T,
  known: abstract new (...args: never[]) => Error,
  logged: ((err: Error) => void) | null = null,
  code = 1,
  prefix = "",
): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof known)) throw err;
    logged?.(err);
    process.stderr.write(`trackd: ${prefix}${err.message}\n`);
    process.exit(code);
  }
}
