/**
 * Delivery as the server runs it: delivery in a thread of its own (delivery-worker.ts),
 * seen from the main thread through the same `Delivery` interface as SinkLoops in process.
 * The main thread tells it when events are committed, keeps the state it reports (for
 * retention's lowest cursor, where an event is, and the metrics), and starts it again if it
 * dies: cursors are in LMDB, so a restarted thread resends from them and loses nothing.
 */
import { setImmediate } from "node:timers";
import type { RootDatabaseOptionsWithPath } from "lmdb";
import type { SinkConfig } from "../config/schema.ts";
import type { DeliveryStore } from "../store/delivery-store.ts";
import type { EventReader } from "../store/event-reader.ts";
import type { Log, LogLevel } from "../telemetry/log.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { FromDelivery, ToDelivery } from "./delivery-protocol.ts";
import {
  type Delivery,
  type EventDelivery,
  HEALTH_CHECK_TIMEOUT_MS,
  minCursorOf,
  refreshSinkGauges,
  reportOf,
  type SinkReport,
  whereIsIn,
} from "./sink-loops.ts";
import type { SinkLoopStatus } from "./sink-loop.ts";

/** Where the delivery thread's code is: beside this file from source; the bundle's own entry when bundled (main.ts). */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("./delivery-worker.ts", import.meta.url).href
  : import.meta.url;

/** How long after a crash the thread is started again. */
const RESTART_DELAY_MS = 1000;

export interface DeliveryThreadOptions {
  /** The LMDB environment's options, as the main thread opened it. */
  envOptions: RootDatabaseOptionsWithPath;
  sinks: SinkConfig[];
  dataDir: string;
  logLevel: LogLevel;
  journal: boolean;
  events: Pick<EventReader, "after"> & { onAppend(listener: () => void): () => void };
  delivery: DeliveryStore;
  metrics: Metrics;
  log: Log;
  now: () => number;
}

export class DeliveryThread implements Delivery {
  private worker: Worker | null = null;
  private statuses: SinkLoopStatus[];
  /** The cursors' counters last counted into the metrics, per sink. */
  private readonly counted = new Map<
    string,
    { delivered: number; failed: number; retries: number }
  >();
  private readonly reports = new Map<number, (reports: SinkReport[]) => void>();
  private nextId = 0;
  private stopping = false;
  private stopped: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Events committed since the last "appended" message. */
  private appended = 0;
  /** Times the thread has been started (1 at start; more after crashes). */
  starts = 0;

  constructor(private readonly options: DeliveryThreadOptions) {
    // Until the thread reports, each sink is where its stored cursor says.
    this.statuses = options.sinks.map((s) => ({
      name: s.name,
      kind: s.kind,
      ...options.delivery.cursorOf(s.name),
      state: "idle",
      attempts: 0,
      lastError: null,
      lastErrorAt: null,
      lastOkAt: null,
      nextAttemptAt: null,
    }));
    for (const s of this.statuses) {
      options.metrics.addSink(s.name);
      this.counted.set(s.name, { delivered: s.delivered, failed: s.failed, retries: s.retries });
    }
    options.metrics.onScrape(() => refreshSinkGauges(options, this.statuses));
  }

  start(): void {
    this.unsubscribe = this.options.events.onAppend(() => {
      // One message per event-loop turn, however many events committed in it.
      if (this.appended++ > 0) return;
      setImmediate(() => {
        this.post({ kind: "appended", events: this.appended });
        this.appended = 0;
      });
    });
    this.spawn();
  }

  notify(): void {
    this.post({ kind: "appended", events: 0 });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      // A thread that does not answer in time is ended anyway: its batch is resent at the next start.
      const timer = setTimeout(resolve, graceMs + 2000);
      this.stopped = () => {
        clearTimeout(timer);
        resolve();
      };
      this.post({ kind: "stop", graceMs });
    });
    worker.terminate();
    this.worker = null;
  }

  async report(check: boolean): Promise<SinkReport[]> {
    if (!this.worker) return this.readReports();
    const id = ++this.nextId;
    return new Promise<SinkReport[]>((resolve) => {
      // A thread too busy to answer (or stuck) must not hang the admin API: past the health
      // checks' own bound, the report is read here from the last known state.
      const timer = setTimeout(() => {
        this.reports.delete(id);
        resolve(this.readReports());
      }, HEALTH_CHECK_TIMEOUT_MS + 1000);
      this.reports.set(id, (reports) => {
        clearTimeout(timer);
        resolve(reports);
      });
      this.post({ kind: "report", id, check });
    });
  }

  whereIs(eventId: string, json: string): EventDelivery[] {
    return whereIsIn(this.statuses, this.options.delivery, eventId, json);
  }

  async replay(sink?: string): Promise<number> {
    const n = await this.options.delivery.requeue(sink);
    this.notify();
    return n;
  }

  minCursor(): string | null {
    return minCursorOf(this.statuses);
  }

  sinkNames(): string[] {
    return this.options.sinks.map((s) => s.name);
  }

  /** Ends the thread as a crash would (tests); it is started again like after one. */
  kill(): void {
    this.worker?.terminate();
  }

  private spawn(): void {
    const worker = new Worker(WORKER_URL, {
      type: "module",
      name: "trackd-delivery",
      workerData: { role: "delivery" },
    } as WorkerOptions);
    this.worker = worker;
    this.starts++;
    worker.onmessage = (e: MessageEvent<FromDelivery>) => this.receive(e.data);
    worker.onerror = (e) =>
      this.options.log.error("delivery thread failed", { error: String(e.message ?? e) });
    worker.addEventListener("close", () => {
      if (this.worker !== worker) return;
      this.worker = null;
      // Pending reports get what is known; the state stays as last reported.
      for (const resolve of this.reports.values()) resolve(this.readReports());
      this.reports.clear();
      if (this.stopping) {
        this.stopped?.();
        return;
      }
      this.options.log.error("delivery thread ended; starting it again", {
        inMs: RESTART_DELAY_MS,
      });
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, RESTART_DELAY_MS);
    });
    const { envOptions, sinks, dataDir, logLevel, journal } = this.options;
    this.post({ kind: "start", options: envOptions, sinks, dataDir, logLevel, journal });
  }

  private receive(message: FromDelivery): void {
    switch (message.kind) {
      case "status":
        this.statuses = message.statuses;
        this.count(message.statuses);
        return;
      case "report":
        this.reports.get(message.id)?.(message.reports);
        this.reports.delete(message.id);
        return;
      case "failed":
        // Ended, so it is started again like after a crash (a sink's server may be back by then).
        this.options.log.error("delivery thread could not start", { error: message.error });
        this.worker?.terminate();
        return;
      case "started":
        return;
      case "stopped":
        this.stopped?.();
        return;
    }
  }

  /** Counts what the cursors' counters gained since last time into the metrics. */
  private count(statuses: SinkLoopStatus[]): void {
    const { metrics } = this.options;
    for (const s of statuses) {
      const before = this.counted.get(s.name)!;
      const gained = (now: number, then: number) => Math.max(0, now - then);
      metrics.delivered.inc({ sink: s.name }, gained(s.delivered, before.delivered));
      metrics.failed.inc({ sink: s.name }, gained(s.failed, before.failed));
      metrics.retries.inc({ sink: s.name }, gained(s.retries, before.retries));
      this.counted.set(s.name, {
        delivered: Math.max(s.delivered, before.delivered),
        failed: Math.max(s.failed, before.failed),
        retries: Math.max(s.retries, before.retries),
      });
    }
  }

  /** Reports from the last known state, read here (while the thread is being started again). */
  private readReports(): SinkReport[] {
    return this.statuses.map((s) => reportOf(this.options, s));
  }

  private post(message: ToDelivery): void {
    this.worker?.postMessage(message);
  }
}
