/**
 * Delivery in the background: one SinkLoop per configured sink, woken when events are stored,
 * plus what the operator asks of delivery (status, lag, where one event is, replay), on the
 * thread that answers requests: the sinks' I/O is asynchronous, and the pacer (pacer.ts)
 * holds a sink that is catching up to a multiple of the arrival rate.
 */
import type { DeliveryConfig } from "../config/schema.ts";
import { uuidv7Time } from "../events/ids.ts";
import { causeOf, type Sink } from "../sinks/types.ts";
import { isTestEventJson } from "../events/event.model.ts";
import type { EventReader } from "../store/event-reader.ts";
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

/**
 * How long a health check may take. Well below the shortest idle timeout (6 s), so the
 * admin page gets an answer during an outage instead of a closed connection.
 */
const HEALTH_CHECK_TIMEOUT_MS = 3000;

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

/** What delivery reads of the store: events after a cursor, and a call after each one stored. */
export type DeliveryEvents = Pick<EventReader, "readAfter" | "after"> & {
  onAppend(listener: () => void): () => void;
};

/** Every sink's loop, and what the app and retention ask of delivery. */
export class SinkLoops {
  private readonly loops: SinkLoop[];
  private unsubscribe: (() => void) | null = null;

  constructor(
    sinks: { sink: Sink; delivery: DeliveryConfig }[],
    private readonly deps: SinkLoopDeps & { events: DeliveryEvents },
  ) {
    this.loops = sinks.map(({ sink, delivery }) => new SinkLoop(sink, delivery, deps));
    for (const { sink } of sinks) deps.metrics.addSink(sink.name);
    deps.metrics.onScrape(() => this.refreshGauges());
  }

  start(): void {
    this.unsubscribe = this.deps.events.onAppend(() => {
      this.deps.pacer?.arrived(1);
      this.notify();
    });
    for (const w of this.loops) w.start();
  }

  /** Wakes idle loops (new events, or replays queued). */
  notify(): void {
    for (const w of this.loops) w.notify();
  }

  /** Finishes or abandons each in-flight batch (within `graceMs`), saves cursors, closes sinks. */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.loops.map((w) => w.stop(graceMs)));
    await Promise.all(this.loops.map((w) => w.sink.close()));
  }

  /** The lowest cursor over all sinks (what every sink has), or null when there are no sinks. */
  minCursor(): string | null {
    const cursors = this.loops.map((w) => w.status().cursor);
    // biome-ignore lint/complexity/useMathMinMax: cursors are event IDs, strings: Math.min would make them numbers.
    return cursors.length === 0 ? null : cursors.reduce((a, b) => (a < b ? a : b));
  }

  sinkNames(): string[] {
    return this.loops.map((w) => w.sink.name);
  }

  /** Every sink's state, lag and counters; with `check`, also each sink's health check. */
  async report(check: boolean): Promise<SinkReport[]> {
    const { delivery } = this.deps;
    return Promise.all(
      this.loops.map(async (w) => {
        const status = w.status();
        const report: SinkReport = {
          ...status,
          lag: this.lag(status.cursor),
          deadLetters: delivery.deadLetterCount(status.name),
          queuedReplays: delivery.replayCount(status.name),
        };
        if (check) report.health = await boundedHealth(w.sink);
        return report;
      }),
    );
  }

  /** Where one stored event is, per sink, from the sinks' cursors and the delivery store. */
  whereIs(eventId: string, json: string): EventDelivery[] {
    const { delivery } = this.deps;
    const test = isTestEventJson(json);
    const dead = new Map(delivery.deadLettersOf(eventId, this.sinkNames()).map((d) => [d.sink, d]));
    return this.loops.map((w): EventDelivery => {
      const { name: sink, cursor } = w.status();
      const letter = dead.get(sink);
      if (letter) return { sink, status: "dead_lettered", cause: letter.cause };
      if (delivery.isQueuedForReplay(sink, eventId)) return { sink, status: "replaying" };
      if (test) return { sink, status: "not_delivered_test_event" };
      return { sink, status: eventId <= cursor ? "delivered" : "pending" };
    });
  }

  /** Queues dead letters (of one sink or all) for redelivery; resolves with how many. */
  async replay(sink?: string): Promise<number> {
    const n = await this.deps.delivery.requeue(sink);
    this.notify();
    return n;
  }

  /** Events after `cursor`, and how old the oldest of them is. */
  private lag(cursor: string): SinkReport["lag"] {
    const after = this.deps.events.after(cursor);
    const ageMs = after.first ? Math.max(0, this.deps.now() - uuidv7Time(after.first)) : null;
    return { events: after.count, oldestAgeMs: ageMs };
  }

  /** The per-sink gauges, refreshed just before a scrape. */
  private refreshGauges(): void {
    const { metrics, delivery } = this.deps;
    for (const w of this.loops) {
      const s = w.status();
      const labels = { sink: s.name };
      const lag = this.lag(s.cursor);
      metrics.lagEvents.set(labels, lag.events);
      metrics.lagSeconds.set(labels, (lag.oldestAgeMs ?? 0) / 1000);
      metrics.healthy.set(labels, s.attempts === 0 ? 1 : 0);
      metrics.deadLetters.set(labels, delivery.deadLetterCount(s.name));
    }
  }
}

/** What the app asks of delivery. */
export type Delivery = Pick<
  SinkLoops,
  "start" | "stop" | "notify" | "report" | "whereIs" | "replay" | "minCursor" | "sinkNames"
>;
