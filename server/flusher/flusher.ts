/**
 * The background flusher: one SinkLoop per configured sink, woken when events are stored,
 * plus what the operator asks of delivery (status, lag, where one event is, replay).
 */
import type { DeliveryConfig } from "../config/schema.ts";
import { uuidv7Time } from "../events/ids.ts";
import { causeOf, type Sink } from "../sinks/types.ts";
import { isTestEventJson } from "../events/event.model.ts";
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

export class Flusher {
  private readonly loops: SinkLoop[];
  private unsubscribe: (() => void) | null = null;

  constructor(
    sinks: { sink: Sink; delivery: DeliveryConfig }[],
    private readonly deps: SinkLoopDeps,
  ) {
    this.loops = sinks.map(({ sink, delivery }) => new SinkLoop(sink, delivery, deps));
    for (const { sink } of sinks) deps.metrics.addSink(sink.name);
    deps.metrics.onScrape(() => this.refreshGauges());
  }

  start(): void {
    this.unsubscribe = this.deps.events.onAppend(() => this.notify());
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
    if (this.loops.length === 0) return null;
    return this.loops.map((w) => w.status().cursor).reduce((a, b) => (a < b ? a : b));
  }

  sinkNames(): string[] {
    return this.loops.map((w) => w.sink.name);
  }

  /** Every sink's state, lag and counters; with `check`, also runs each sink's health check. */
  async report(check: boolean): Promise<SinkReport[]> {
    return Promise.all(
      this.loops.map(async (w) => {
        const status = w.status();
        const after = this.deps.events.after(status.cursor);
        const report: SinkReport = {
          ...status,
          lag: {
            events: after.count,
            oldestAgeMs: after.first
              ? Math.max(0, this.deps.now() - uuidv7Time(after.first))
              : null,
          },
          deadLetters: this.deps.delivery.deadLetterCount(status.name),
          queuedReplays: this.deps.delivery.replayCount(status.name),
        };
        if (check) report.health = await boundedHealth(w.sink);
        return report;
      }),
    );
  }

  /** Where one stored event is, per sink. */
  whereIs(eventId: string, json: string): EventDelivery[] {
    const test = isTestEventJson(json);
    const dead = new Map(
      this.deps.delivery.deadLettersOf(eventId, this.sinkNames()).map((d) => [d.sink, d]),
    );
    return this.loops.map((w) => {
      const sink = w.sink.name;
      const letter = dead.get(sink);
      if (letter) return { sink, status: "dead_lettered", cause: letter.cause };
      if (this.deps.delivery.isQueuedForReplay(sink, eventId)) return { sink, status: "replaying" };
      if (test) return { sink, status: "not_delivered_test_event" };
      return { sink, status: eventId <= w.status().cursor ? "delivered" : "pending" };
    });
  }

  /** Queues dead letters (of one sink or all) for redelivery. */
  async replay(sink?: string): Promise<number> {
    const n = await this.deps.delivery.requeue(sink);
    this.notify();
    return n;
  }

  private refreshGauges(): void {
    const now = this.deps.now();
    for (const w of this.loops) {
      const s = w.status();
      const after = this.deps.events.after(s.cursor);
      const labels = { sink: s.name };
      this.deps.metrics.lagEvents.set(labels, after.count);
      this.deps.metrics.lagSeconds.set(
        labels,
        after.first ? Math.max(0, (now - uuidv7Time(after.first)) / 1000) : 0,
      );
      this.deps.metrics.healthy.set(labels, s.attempts === 0 ? 1 : 0);
      this.deps.metrics.deadLetters.set(labels, this.deps.delivery.deadLetterCount(s.name));
    }
  }
}
