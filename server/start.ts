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
import { createLog } from "./telemetry/log.ts";
import { Metrics } from "./telemetry/metrics.ts";
import { DeliveryThread } from "./flusher/delivery-thread.ts";
import { Retention } from "./store/retention.ts";
import { Registry } from "./registry/registry.ts";
import { RateLimiter } from "./ingest/rate-limit.ts";
import { type Listener, type Runtime, TRANSPORT_BODY_CAP } from "./runtime/runtime.ts";
import { readTlsFiles, TlsError, type TlsFiles } from "./http/tls-files.ts";

/** Loads the configuration, opens the store, serves, and handles SIGTERM/SIGINT until exit. */
export async function start(runtime: Runtime): Promise<void> {
  // Everything trackd creates is its own: events hold client IP addresses. Files 0600,
  // directories 0700 (LMDB's, the sinks' files, the admin token).
  process.umask(0o077);

  const command = await runCommand(process.argv.slice(2), process.env);
  if (command !== null) process.exit(command);

  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`trackd: ${err.message}\n`);
    process.exit(2);
  }
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
  const { config } = loaded;
  // Under systemd stderr goes to the journal: lines carry their priority (telemetry/log.ts).
  const journal = process.env.JOURNAL_STREAM !== undefined;
  const log = createLog(config.logLevel, undefined, journal);
  const dataDir = resolve(config.dataDir);

  process.on("unhandledRejection", (reason) =>
    log.error("unhandled rejection", { error: String(reason) }),
  );

  try {
    lockDataDir(dataDir, runtime.tryLock);
  } catch (err) {
    if (!(err instanceof DataDirInUse)) throw err;
    process.stderr.write(`trackd: ${err.message}\n`);
    process.exit(1);
  }
  let store: Store;
  try {
    store = openStore({
      dataDir,
      durability: config.durability,
      rejectLogSize: config.rejectLogSize,
      dedupeWindowMs: config.dedupeWindowSeconds * 1000,
      log,
      storageMaxBytes: config.storageMaxBytes,
    });
  } catch (err) {
    if (!(err instanceof StoreFormatError)) throw err;
    log.error("cannot open the data directory", { dataDir, error: err.message });
    process.stderr.write(`trackd: ${err.message}\n`);
    process.exit(1);
  }
  const admin = ensureAdminToken(dataDir, process.env.TRACKD_ADMIN_TOKEN);
  let tls: TlsFiles | null;
  try {
    tls = readTlsFiles(config.tls);
  } catch (err) {
    if (!(err instanceof TlsError)) throw err;
    log.error("cannot start HTTPS", { error: err.message });
    process.stderr.write(`trackd: ${err.message}\n`);
    process.exit(1);
  }

  const metrics = new Metrics();
  // The sink loops run in a thread of their own (flusher/delivery-thread.ts).
  const flusher = new DeliveryThread({
    envOptions: store.envOptions,
    sinks: config.sinks,
    dataDir,
    logLevel: config.logLevel,
    journal,
    events: store.events,
    delivery: store.delivery,
    metrics,
    log,
    now: Date.now,
  });
  const retention = new Retention(store, {
    retentionMs: config.retentionSeconds * 1000,
    capBytes: config.storageMaxBytes,
    minFreeBytes: config.storageMinFreeBytes,
    dataDir,
    minCursor: () => flusher.minCursor(),
    log,
  });
  // At the margin nothing trackd writes for itself grows the store: the reject log and the
  // per-tracker counters wait in memory until there is room.
  store.rejects.held = store.stats.held = () => retention.isFull();

  let draining = false;
  const registry = new Registry(store.registry, config.registry);
  const rateLimits = new RateLimiter(config.rateLimits);
  const deps = {
    config,
    store,
    adminToken: admin.token,
    log,
    metrics,
    flusher,
    registry,
    rateLimits,
    storageFull: () => retention.fullReason(),
    draining: () => draining,
    peerAddress: runtime.peerAddress,
  };
  const listen = {
    maxRequestBodySize: TRANSPORT_BODY_CAP,
    // Closes connections idle, or stalled mid-request (slowloris), for this long. The admin
    // page's live stream sends a comment every 5 s, so the minimum is 6.
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    tls: tls && { cert: tls.cert, key: tls.key },
  };
  // With admin.port set, the admin page and API listen apart (say on loopback only) and the
  // public listener serves only the collect side.
  const separateAdmin = config.admin.port > 0;
  const app = separateAdmin
    ? createApp(deps, { collect: true, admin: false })
    : runtime.withAdminPage(createApp(deps));
  let server: Listener;
  let adminServer: Listener | null;
  try {
    server = runtime.serve(app, { hostname: config.host, port: config.port, ...listen });
    adminServer = separateAdmin
      ? runtime.serve(runtime.withAdminPage(createApp(deps, { collect: false, admin: true })), {
          hostname: config.admin.host,
          port: config.admin.port,
          ...listen,
        })
      : null;
  } catch (err) {
    // Bun says "Failed to start server. Is port 8080 in use?"; Deno, "Address already in use".
    const error = err instanceof Error ? err.message : String(err);
    log.error("cannot listen", { host: config.host, port: config.port, error });
    process.stderr.write(`trackd: cannot listen: ${error}\n`);
    process.exit(1);
  }
  if (config.workers !== undefined)
    log.warn(
      "workers is ignored: trackd serves on one thread; to use more cores run more processes (docs/operations.md, Scaling out)",
      { workers: config.workers },
    );
  const scheme = tls ? "https" : "http";
  const url = `${scheme}://${config.host === "0.0.0.0" ? "localhost" : config.host}:${server.port}`;
  const adminUrl = adminServer
    ? `${scheme}://${config.admin.host === "0.0.0.0" ? "localhost" : config.admin.host}:${adminServer.port}`
    : url;
  if (admin.created)
    process.stderr.write(
      `\nAdmin token (shown once, kept in ${admin.file}):\n  ${admin.token}\nAdmin page: ${adminUrl}/admin (log in with the token)\nAdmin API:  curl -H "Authorization: Bearer ${admin.token}" ${adminUrl}/admin/api/events\n\n`,
    );
  flusher.start();
  retention.start();
  log.info("trackd listening", {
    address: `${config.host}:${server.port}`,
    url,
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
    // The flusher finishes (or abandons, to be resent) its in-flight batches before LMDB closes.
    await flusher.stop(config.shutdownTimeoutMs);
    await retention.stop();
    await store.close();
    log.info("stopped", { signal });
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGHUP", () => void reloadCertificate());
}
