/**
 * The request threads of `workers`, seen from the main thread: it starts them on its own
 * port (request-worker.ts), keeps for the whole process what they report (stored events into
 * the tracker counters, delivery's wake-up and the live stream; refusals into the reject log;
 * their counters into /metrics), tells them what changes (registry, storage full, shutting
 * down, a renewed certificate), and starts one again if it dies. A thread's acknowledged
 * events are committed by the writer thread, so a crash loses none; its open connections are
 * dropped and its clients retry.
 */
import type { RootDatabaseOptionsWithPath } from "lmdb";
import type { Config } from "../config/schema.ts";
import type { RateLimitTables } from "../ingest/rate-limit.ts";
import type { Store } from "../store/open-store.ts";
import type { Log } from "../telemetry/log.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import {
  type FromRequests,
  SharedFlags,
  type SharedState,
  type ToRequests,
} from "./request-protocol.ts";

/** The bundle's (or, from source, server/main.ts's) entry runs a request thread when told to (main.ts). */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../main.ts", import.meta.url).href
  : import.meta.url;

const RESTART_DELAY_MS = 1000;
/** How long a certificate reload waits for each thread to say it serves the new one. */
const TLS_RELOAD_WAIT_MS = 3000;
/** How often the main thread's state is copied to the shared flags (and after each report of stored events). */
const STATE_EVERY_MS = 50;

export interface RequestThreadsOptions {
  /** Threads to start besides the main one. */
  count: number;
  config: Config;
  envOptions: RootDatabaseOptionsWithPath;
  /** The port the main thread listens on. */
  port: number;
  tls: { cert: string; key: string } | null;
  journal: boolean;
  /** The main thread's socket for the admin page and API (Runtime.serveForwarded), or null. */
  forwardTo: string | null;
  /** The main thread's rate limit buckets (RateLimits.tables). */
  rateLimits: RateLimitTables;
  store: Pick<Store, "writerPort" | "onWriterFailure" | "events" | "rejects">;
  metrics: Metrics;
  log: Log;
  state: () => SharedState;
}

interface Thread {
  worker: Worker;
  /** Names its counters in the metrics: a restarted thread counts under a new name. */
  name: string;
  listening: Promise<void>;
  stopped: Promise<void>;
  /** Resolves the wait for its answer to a certificate reload. */
  reloaded?: () => void;
}

export class RequestThreads {
  private readonly threads: (Thread | null)[];
  private stopping = false;
  private starts = 0;
  private readonly flags = new SharedFlags();
  /** Set once the writer thread has failed: a thread started after that is told at once. */
  private writerError: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private tls: { cert: string; key: string } | null;

  constructor(private readonly options: RequestThreadsOptions) {
    this.threads = Array.from({ length: options.count }, () => null);
    this.flags.set(options.state());
    this.tls = options.tls;
    options.store.onWriterFailure((error) => {
      this.writerError = error.message;
      this.broadcast({ kind: "writer-failed", error: error.message });
    });
  }

  /** Starts every thread; resolves once all listen, rejects if one cannot. */
  async start(): Promise<void> {
    for (let i = 0; i < this.threads.length; i++) this.spawn(i);
    this.timer = setInterval(() => this.passState(), STATE_EVERY_MS);
    this.timer.unref?.();
    await Promise.all(this.threads.map((t) => t!.listening));
  }

  registryChanged(): void {
    this.broadcast({ kind: "registry" });
  }

  /** Serves a renewed certificate on every thread (as the main thread's listener does). */
  async reloadTls(tls: { cert: string; key: string }): Promise<void> {
    this.tls = tls;
    const reloads = this.threads.map((t) => {
      if (!t) return Promise.resolve();
      const done = new Promise<void>((resolve) => {
        t.reloaded = resolve;
        setTimeout(resolve, TLS_RELOAD_WAIT_MS).unref?.();
      });
      this.post(t, { kind: "tls", tls });
      return done;
    });
    await Promise.all(reloads);
  }

  /** Stops accepting on every thread; resolves once each has answered its requests in flight. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      this.threads.map(async (t) => {
        if (!t) return;
        // A thread that does not answer in time is ended anyway (its clients retry).
        const timeout = new Promise<void>((r) => setTimeout(r, graceMs + 2000).unref?.());
        this.post(t, { kind: "stop" });
        await Promise.race([t.stopped, timeout]);
        t.worker.terminate();
      }),
    );
  }

  /** Ends thread `i` as a crash would (tests); it is started again like after one. */
  kill(i: number): void {
    this.threads[i]?.worker.terminate();
  }

  private spawn(i: number): void {
    const { options } = this;
    const worker = new Worker(WORKER_URL, {
      type: "module",
      name: `trackd-http-${i + 2}`, // the main thread is the first (thread names: 15 bytes at most)
      workerData: { role: "requests" },
    } as WorkerOptions);
    const name = `thread-${++this.starts}`;
    let listening: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    let stopped: () => void = () => {};
    const thread: Thread = {
      worker,
      name,
      listening: new Promise<void>((resolve, reject) => {
        listening = resolve;
        failed = reject;
      }),
      stopped: new Promise<void>((resolve) => (stopped = resolve)),
    };
    thread.listening.catch(() => {});
    this.threads[i] = thread;
    worker.onmessage = (e: MessageEvent<FromRequests>) => {
      const message = e.data;
      switch (message.kind) {
        case "ready":
          this.sendStart(thread);
          return;
        case "listening":
          listening();
          if (this.writerError)
            this.post(thread, { kind: "writer-failed", error: this.writerError });
          return;
        case "failed":
          options.log.error("a request thread could not start", { error: message.error });
          failed(new Error(message.error));
          return;
        case "stored":
          options.store.events.storedElsewhere(message.events);
          this.passState(); // retention may have measured the store just now
          return;
        case "rejected":
          for (const { record, idsValid } of message.records)
            options.store.rejects.record(record, idsValid);
          return;
        case "counters":
          options.metrics.absorb(name, message.counters);
          return;
        case "metrics":
          options.metrics.absorb(name, message.counters);
          this.post(thread, { kind: "metrics", id: message.id, text: options.metrics.render() });
          return;
        case "tls-reloaded":
          thread.reloaded?.();
          if (message.error)
            options.log.error("a request thread kept its previous certificate", {
              error: message.error,
            });
          return;
        case "stopped":
          stopped();
          return;
      }
    };
    worker.onerror = (e) =>
      options.log.error("request thread failed", { error: String(e.message ?? e) });
    worker.addEventListener("close", () => {
      stopped();
      failed(new Error("the request thread ended before it listened"));
      if (this.threads[i] !== thread) return;
      this.threads[i] = null;
      if (this.stopping) return;
      options.log.error("request thread ended; starting it again", { inMs: RESTART_DELAY_MS });
      setTimeout(() => {
        if (!this.stopping) this.spawn(i);
      }, RESTART_DELAY_MS);
    });
  }

  private sendStart(thread: Thread): void {
    const { options } = this;
    const writerPort = options.store.writerPort();
    thread.worker.postMessage(
      {
        kind: "start",
        config: options.config,
        envOptions: options.envOptions,
        port: options.port,
        tls: this.tls,
        journal: options.journal,
        writerPort,
        flags: this.flags.buffer,
        forwardTo: options.forwardTo,
        rateLimits: options.rateLimits,
      } satisfies ToRequests,
      [writerPort],
    );
  }

  private passState(): void {
    this.flags.set(this.options.state());
  }

  private broadcast(message: ToRequests): void {
    for (const t of this.threads) if (t) this.post(t, message);
  }

  private post(thread: Thread, message: ToRequests): void {
    thread.worker.postMessage(message);
  }
}
