/**
 * Delivery in the background: one SinkLoop per configured sink, woken when events are stored,
 * plus what the operator asks of delivery (status, lag, where one event is, replay), on the
 * thread that answers requests: the sinks' I/O is asynchronous, and the pacer (pacer.ts)
 * holds a sink that is catching up to a multiple of the arrival rate. The app and retention
 * see it through the `Delivery` interface.
 */
import type { DeliveryConfig } from "../config/schema.ts";
import { uuidv7Time } from "../events/ids.ts";
import { causeOf, type Sink } from "../sinks/types.ts";
import { isTestEventJson } from "../events/event.model.ts";
import type { DeliveryStore } from "../store/delivery-store.ts";
import type { EventReader } from "../store/event-reader.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import { SinkLoop, type SinkLoopDeps, type SinkLoopStatus } from "./sink-loop.ts";

export interface SinkReport extends SinkLoopStatus {
  lag: { events: number; oldestAgeMs: number | null };
  deadLetters: number;
  queuedReplays: number;
  health?: { ok: boolean; detail: string };
}

export type EventDelivery = {
  sink: string;
  status: "delivered" | "pending" | "dead_lettered" | "replaying" | "not_delivered_test_event";
  cause?: string;
};

/** What the app and retention ask of delivery, wherever the sink loops run. */
export interface Delivery {
  start(): void;
  /** Finishes or abandons each in-flight batch (within `graceMs`), saves cursors, closes sinks. */
  stop(graceMs: number): Promise<void>;
  /** Wakes idle loops (new events, or replays queued). */
  notify(): void;
  /** Every sink's state, lag and counters; with `check`, also each sink's health check. */
  report(check: boolean): Promise<SinkReport[]>;
  /** Where one stored event is, per sink. */
  whereIs(eventId: string, json: string): EventDelivery[];
  /** Queues dead letters (of one sink or all) for redelivery; resolves with how many. */
  replay(sink?: string): Promise<number>;
  /** The lowest cursor over all sinks (what every sink has), or null when there are no sinks. */
  minCursor(): string | null;
  sinkNames(): string[];
}

/**
 * How long a health check may take. Well below the shortest idle timeout (6 s), so the
 * admin page gets an answer during an outage instead of a closed connection.
 */
export const HEALTH_CHECK_TIMEOUT_MS = 3000;

/** The sink's own health check, or "no answer" once it has taken HEALTH_CHECK_TIMEOUT_MS. */
async function boundedHealth(sink: Sink): Promise<{ ok: boolean; detail: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `no answer within ${HEALTH_CHECK_TIMEOUT_MS / 1000} s` }),
      HEALTH_CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      sink.health().catch((err: unknown) => ({ ok: false, detail: causeOf(err) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What delivery reads of the store: the event log, and the listener SinkLoops in process wakes on. */
export type FlusherEvents = Pick<EventReader, "readAfter" | "after"> & {
  onAppend?(listener: () => void): () => void;
};

export class SinkLoops implements Delivery {
  private readonly loops: SinkLoop[];
  private unsubscribe: (() => void) | null = null;

  constructor(
    sinks: { sink: Sink; delivery: DeliveryConfig }[],
    private readonly deps: SinkLoopDeps & { events: FlusherEvents },
  ) {
    this.loops = sinks.map(({ sink, delivery }) => new SinkLoop(sink, delivery, deps));
    for (const { sink } of sinks) deps.metrics.addSink(sink.name);
    deps.metrics.onScrape(() => refreshSinkGauges(deps, this.statuses()));
  }

  start(): void {
    this.unsubscribe =
      this.deps.events.onAppend?.(() => {
        this.deps.pacer?.arrived(1);
        this.notify();
      }) ?? null;
    for (const w of this.loops) w.start();
  }

  notify(): void {
    for (const w of this.loops) w.notify();
  }

  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.loops.map((w) => w.stop(graceMs)));
    await Promise.all(this.loops.map((w) => w.sink.close()));
  }

  statuses(): SinkLoopStatus[] {
    return this.loops.map((w) => w.status());
  }

  minCursor(): string | null {
    return minCursorOf(this.statuses());
  }

  sinkNames(): string[] {
    return this.loops.map((w) => w.sink.name);
  }

  async report(check: boolean): Promise<SinkReport[]> {
    return Promise.all(
      this.loops.map(async (w) => {
        const report = reportOf(this.deps, w.status());
        if (check) report.health = await boundedHealth(w.sink);
        return report;
      }),
    );
  }

  whereIs(eventId: string, json: string): EventDelivery[] {
    return whereIsIn(this.statuses(), this.deps.delivery, eventId, json);
  }

  async replay(sink?: string): Promise<number> {
    const n = await this.deps.delivery.requeue(sink);
    this.notify();
    return n;
  }
}

/** The lowest cursor of `statuses`, or null for none. */
export function minCursorOf(statuses: { cursor: string }[]): string | null {
  if (statuses.length === 0) return null;
  return statuses.map((s) => s.cursor).reduce((a, b) => (a < b ? a : b));
}

/** A sink's status with its lag, dead letters and queued replays, read from the store. */
export function reportOf(
  deps: { events: Pick<EventReader, "after">; delivery: DeliveryStore; now: () => number },
  status: SinkLoopStatus,
): SinkReport {
  const after = deps.events.after(status.cursor);
  return {
    ...status,
    lag: {
      events: after.count,
      oldestAgeMs: after.first ? Math.max(0, deps.now() - uuidv7Time(after.first)) : null,
    },
    deadLetters: deps.delivery.deadLetterCount(status.name),
    queuedReplays: deps.delivery.replayCount(status.name),
  };
}

/** Where one stored event is, per sink, from the sinks' cursors and the delivery store. */
export function whereIsIn(
  statuses: { name: string; cursor: string }[],
  delivery: DeliveryStore,
  eventId: string,
  json: string,
): EventDelivery[] {
  const test = isTestEventJson(json);
  const names = statuses.map((s) => s.name);
  const dead = new Map(delivery.deadLettersOf(eventId, names).map((d) => [d.sink, d]));
  return statuses.map(({ name: sink, cursor }) => {
    const letter = dead.get(sink);
    if (letter) return { sink, status: "dead_lettered", cause: letter.cause };
    if (delivery.isQueuedForReplay(sink, eventId)) return { sink, status: "replaying" };
    if (test) return { sink, status: "not_delivered_test_event" };
    return { sink, status: eventId <= cursor ? "delivered" : "pending" };
  });
}

/** The per-sink gauges, refreshed just before a scrape. */
export function refreshSinkGauges(
  deps: {
    events: Pick<EventReader, "after">;
    delivery: DeliveryStore;
    metrics: Metrics;
    now: () => number;
  },
  statuses: SinkLoopStatus[],
): void {
  const now = deps.now();
  for (const s of statuses) {
    const after = deps.events.after(s.cursor);
    const labels = { sink: s.name };
    deps.metrics.lagEvents.set(labels, after.count);
    deps.metrics.lagSeconds.set(
      labels,
      after.first ? Math.max(0, (now - uuidv7Time(after.first)) / 1000) : 0,
    );
    deps.metrics.healthy.set(labels, s.attempts === 0 ? 1 : 0);
    deps.metrics.deadLetters.set(labels, deps.delivery.deadLetterCount(s.name));
  }
}
