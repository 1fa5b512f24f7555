/**
 * A small Prometheus registry: counters and gauges with labels, and one latency histogram,
 * rendered in the text exposition format. Gauges may be computed at scrape time.
 */

import { COLLECT_ERROR_CODES } from "../errors.ts";

type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.entries(labels)
    .map(
      ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");

class Family {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  inc(labels?: Labels, by = 1): void {
    const k = labels ? key(labels) : ""; // the unlabelled hot-path counters skip the formatting
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value);
  }

  /** A counter of one label set, its key formatted once: for the hot path (a request's route). */
  counter(labels: Labels): { inc(by?: number): void } {
    const k = key(labels);
    if (!this.values.has(k)) this.values.set(k, 0);
    return { inc: (by = 1) => this.values.set(k, this.values.get(k)! + by) };
  }
}

/** Latency buckets in seconds, from 0.5 ms to 5 s. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

class Histogram {
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]!++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    BUCKETS.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join("\n");
  }
}

export class Metrics {
  readonly requests = new Family(
    "trackd_collect_requests_total",
    "Collect requests (not events: a batch is one request), by route: event, events, get, pixel.",
    "counter",
  );
  readonly received = new Family(
    "trackd_events_received_total",
    "Events received: stored + duplicate + debugged + rejected. A request refused before its events were counted counts as one.",
    "counter",
  );
  readonly stored = new Family(
    "trackd_events_stored_total",
    "Events stored (test events included).",
    "counter",
  );
  readonly duplicates = new Family(
    "trackd_events_duplicate_total",
    "Events not stored again: their eventId is stored already.",
    "counter",
  );
  readonly debugged = new Family(
    "trackd_events_debugged_total",
    "Events validated with oa_debug=true and, as asked, not stored.",
    "counter",
  );
  readonly preflights = new Family(
    "trackd_cors_preflights_total",
    "CORS preflight (OPTIONS) requests answered.",
    "counter",
  );
  readonly rejected = new Family(
    "trackd_events_rejected_total",
    "Events refused, by error code. A request refused whole counts as one.",
    "counter",
  );
  readonly bots = new Family(
    "trackd_bot_requests_total",
    "Browser requests from bots (automated, headless or a known crawler), by reason; their events are stored flagged.",
    "counter",
  );
  readonly delivered = new Family(
    "trackd_sink_delivered_total",
    "Events a sink accepted.",
    "counter",
  );
  readonly failed = new Family(
    "trackd_sink_failed_total",
    "Events a sink refused for good (dead-lettered).",
    "counter",
  );
  readonly retries = new Family(
    "trackd_sink_retries_total",
    "Batches a sink asked to retry.",
    "counter",
  );
  readonly lagEvents = new Family(
    "trackd_sink_lag_events",
    "Stored events after the sink's cursor.",
    "gauge",
  );
  readonly lagSeconds = new Family(
    "trackd_sink_lag_seconds",
    "Age of the oldest event the sink has not taken.",
    "gauge",
  );
  readonly healthy = new Family(
    "trackd_sink_up",
    "1 if the sink's last attempt succeeded.",
    "gauge",
  );
  readonly deadLetters = new Family(
    "trackd_sink_dead_letters",
    "Dead letters waiting per sink.",
    "gauge",
  );
  readonly storageBytes = new Family(
    "trackd_storage_used_bytes",
    "Bytes of LMDB pages holding data.",
    "gauge",
  );
  readonly storageCap = new Family(
    "trackd_storage_cap_bytes",
    "The storage cap (0: none).",
    "gauge",
  );
  readonly rss = new Family(
    "trackd_process_resident_memory_bytes",
    "Resident memory of the process (includes LMDB's mapped pages).",
    "gauge",
  );
  readonly adminAuthFailures = new Family(
    "trackd_admin_auth_failures_total",
    "Wrong admin tokens (at login or as a bearer) and wrong export credentials (basic), by how they were answered: refused (401, logged) or limited (429, counted only).",
    "counter",
  );
  readonly heap = new Family("trackd_heap_used_bytes", "JavaScript heap in use.", "gauge");
  readonly storedNow = new Family("trackd_events_stored", "Events in the store now.", "gauge");
  readonly latency = new Histogram(
    "trackd_collect_duration_seconds",
    "Time to answer a collect request.",
  );
  private readonly collectors: (() => void)[] = [];
  constructor() {
    // Every series exists from the start at zero, so rate() and alerts see the first event.
    for (const f of [this.received, this.stored, this.duplicates, this.debugged, this.preflights])
      f.inc(undefined, 0);
    for (const route of ["event", "events", "get", "pixel"]) this.requests.inc({ route }, 0);
    for (const reason of ["webdriver", "headless", "crawler"]) this.bots.inc({ reason }, 0);
    for (const code of COLLECT_ERROR_CODES) this.rejected.inc({ code }, 0);
    for (const via of ["login", "bearer", "basic"])
      for (const result of ["refused", "limited"]) this.adminAuthFailures.inc({ via, result }, 0);
  }

  /** Starts a sink's counters at zero (delivery calls it for each configured sink). */
  addSink(sink: string): void {
    for (const f of [this.delivered, this.failed, this.retries]) f.inc({ sink }, 0);
  }

  /** Registers a function that refreshes gauges just before each scrape. */
  onScrape(collect: () => void): void {
    this.collectors.push(collect);
  }

  /** The Prometheus text format. */
  render(): string {
    const memory = process.memoryUsage();
    this.rss.set({}, memory.rss);
    this.heap.set({}, memory.heapUsed);
    for (const c of this.collectors) c();
    const families = [
      this.requests,
      this.received,
      this.stored,
      this.duplicates,
      this.debugged,
      this.preflights,
      this.rejected,
      this.bots,
      this.delivered,
      this.failed,
      this.retries,
      this.lagEvents,
      this.lagSeconds,
      this.healthy,
      this.deadLetters,
      this.storageBytes,
      this.storageCap,
      this.storedNow,
      this.adminAuthFailures,
      this.rss,
      this.heap,
    ];
    const out: string[] = [];
    for (const f of families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const [labels, value] of f.values)
        out.push(labels ? `${f.name}{${labels}} ${value}` : `${f.name} ${value}`);
    }
    out.push(this.latency.render());
    return `${out.join("\n")}\n`;
  }
}
