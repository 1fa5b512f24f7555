/**
 * The delivery loop of one sink: read the next events after the sink's cursor (queued replays
 * first), send them, and advance the cursor only over what the sink took. Retries back off
 * with jitter; fatal outcomes become dead letters. Each sink has its own loop, so a slow or
 * broken sink never holds up another.
 */
import type { DeliveryConfig } from "../config/schema.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { Log } from "../telemetry/log.ts";
import type { DeadLetter, DeliveryStore, SinkCursor } from "../store/delivery-store.ts";
import type { EventReader } from "../store/event-reader.ts";
import {
  causeOf,
  type DeliveryItem,
  type SendOutcome,
  type SendResult,
  type Sink,
} from "../sinks/types.ts";
import { backoffMs } from "./backoff.ts";
import type { Pacer } from "./pacer.ts";

export interface SinkLoopDeps {
  events: Pick<EventReader, "readAfter">;
  delivery: DeliveryStore;
  metrics: Metrics;
  log: Log;
  now: () => number;
  /** Paces a sink that is catching up while events arrive (pacer.ts); without one, full speed. */
  pacer?: Pacer;
}

export interface SinkLoopStatus extends SinkCursor {
  name: string;
  kind: string;
  /** holding: the sink asked to wait (an ADF sink's delaySeconds after a lead). */
  state: "idle" | "sending" | "backoff" | "holding" | "stopped";
  /** Consecutive failed attempts of the current batch. */
  attempts: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastOkAt: string | null;
  nextAttemptAt: string | null;
}

/** How often an idle loop looks for events even without a wake-up. */
const IDLE_POLL_MS = 1000;

export class SinkLoop {
  private readonly cursor: SinkCursor;
  private state: SinkLoopStatus["state"] = "idle";
  private attempts = 0;
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private lastOkAt: string | null = null;
  private nextAttemptAt: number | null = null;
  private stopping = false;
  private wakeIdle: (() => void) | null = null;
  private interrupt: (() => void) | null = null;
  private abandon: (() => void) | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    readonly sink: Sink,
    private readonly config: DeliveryConfig,
    private readonly deps: SinkLoopDeps,
  ) {
    this.cursor = deps.delivery.cursorOf(sink.name);
  }

  start(): void {
    this.running = this.loop().catch((err) =>
      this.deps.log.error("delivery loop failed", { sink: this.sink.name, error: causeOf(err) }),
    );
  }

  /** New events were stored: an idle loop looks at once. */
  notify(): void {
    this.wakeIdle?.();
  }

  /** Stops after the in-flight batch, or abandons it (its cursor unmoved) after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wakeIdle?.();
    this.interrupt?.();
    const timer = setTimeout(() => this.abandon?.(), graceMs);
    await this.running;
    clearTimeout(timer);
    // Every batch's cursor is already committed; this stores the counters once more.
    await this.deps.delivery.saveCursor(this.sink.name, this.cursor).catch((err) =>
      this.deps.log.error("sink cursor not stored at stop", {
        sink: this.sink.name,
        error: causeOf(err),
      }),
    );
    this.state = "stopped";
  }

  status(): SinkLoopStatus {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      name: this.sink.name,
      kind: this.sink.kind,
      ...this.cursor,
      state: this.state,
      attempts: this.attempts,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      lastOkAt: this.lastOkAt,
      nextAttemptAt: iso(this.nextAttemptAt),
    };
  }

  private async loop(): Promise<void> {
    const { maxEvents, maxBytes, lingerMs } = this.config;
    while (!this.stopping) {
      const replays = this.deps.delivery.replays(this.sink.name, maxEvents);
      if (replays.length > 0) {
        await this.deliver(replays, null);
        continue;
      }
      const read = this.deps.events.readAfter(this.cursor.cursor, maxEvents, maxBytes);
      if (read.items.length === 0) {
        if (read.last) await this.advance(read.last); // only test events: pass over them
        this.state = "idle";
        if (await this.wait(IDLE_POLL_MS, true)) await this.wait(lingerMs, false); // let a batch gather
        continue;
      }
      await this.deliver(read.items, read.last);
      if (this.stopping) continue;
      // Caught up under steady load: let the next batch gather instead of chasing every commit
      // with a batch of a few events (each batch costs a write, an fdatasync and a cursor commit).
      // Catching up while events arrive: leave ingest its share of the disk and the cores.
      if (!read.full) await this.wait(lingerMs, false);
      else if (this.deps.pacer)
        await this.wait(this.deps.pacer.delayAfter(read.items.length), false);
    }
  }

  /** Sends one batch; `last` is the last key read (null for replays). */
  private async deliver(items: DeliveryItem[], last: string | null): Promise<void> {
    this.state = "sending";
    const outcomes = await this.send(items);
    if (outcomes === null) return; // abandoned at shutdown: resent after restart
    const name = this.sink.name;
    let done = 0;
    let retry: Extract<SendOutcome, { kind: "retry" }> | null = null;
    let hold: number | null = null;
    const deadLetters: DeadLetter[] = [];
    for (const outcome of outcomes) {
      if (outcome.kind === "retry") {
        retry = outcome;
        break;
      }
      if (outcome.kind === "hold") {
        hold = outcome.delayMs;
        break;
      }
      const item = items[done]!;
      if (outcome.kind === "fatal")
        deadLetters.push({
          sink: name,
          eventId: item.eventId,
          at: new Date(this.deps.now()).toISOString(),
          cause: outcome.cause,
          attempts: this.attempts + 1,
          json: item.json,
        });
      done++;
    }
    // The dead letters and the cursor (or the replay marks) are committed together before the
    // next batch; if that fails, nothing of it was, and the batch is sent again (at least once).
    const cursor = {
      ...this.cursor,
      delivered: this.cursor.delivered + done - deadLetters.length,
      failed: this.cursor.failed + deadLetters.length,
    };
    if (last !== null && done > 0)
      cursor.cursor = done === items.length ? last : items[done - 1]!.eventId;
    try {
      if (done > 0)
        await this.deps.delivery.commitBatch(name, {
          deadLetters,
          cursor,
          replayed: last === null ? items.slice(0, done).map((i) => i.eventId) : [],
        });
    } catch (err) {
      this.deps.log.error("delivery bookkeeping not stored; the batch will be sent again", {
        sink: name,
        events: done,
        error: causeOf(err),
      });
      retry = { kind: "retry", cause: `bookkeeping not stored: ${causeOf(err)}` };
      done = 0;
    }
    if (done > 0) {
      Object.assign(this.cursor, cursor);
      this.deps.metrics.delivered.inc({ sink: name }, done - deadLetters.length);
      if (deadLetters.length > 0) this.deps.metrics.failed.inc({ sink: name }, deadLetters.length);
      for (const d of deadLetters)
        this.deps.log.warn("event dead-lettered", {
          sink: name,
          eventId: d.eventId,
          cause: d.cause,
        });
    }

    if (!retry) {
      this.attempts = 0;
      if (done > 0) this.lastOkAt = new Date(this.deps.now()).toISOString();
      if (hold !== null) {
        this.state = "holding";
        this.nextAttemptAt = this.deps.now() + hold;
        await this.wait(hold, false);
        this.nextAttemptAt = null;
      }
      return;
    }
    this.attempts++;
    this.cursor.retries++;
    this.deps.metrics.retries.inc({ sink: name });
    this.lastError = retry.cause;
    this.lastErrorAt = new Date(this.deps.now()).toISOString();
    const delay =
      retry.delayMs ?? backoffMs(this.attempts, this.config.retryInitialMs, this.config.retryMaxMs);
    this.deps.log.warn("delivery failed, will retry", {
      sink: name,
      attempt: this.attempts,
      delayMs: delay,
      cause: retry.cause,
    });
    this.state = "backoff";
    this.nextAttemptAt = this.deps.now() + delay;
    await this.wait(Math.min(delay, this.config.retryMaxMs), false);
    this.nextAttemptAt = null;
  }

  /** The sink's outcome per event, or null if shutdown abandoned the batch. */
  private async send(items: DeliveryItem[]): Promise<SendOutcome[] | null> {
    const abandoned = new Promise<null>((resolve) => (this.abandon = () => resolve(null)));
    let result: SendResult | null;
    try {
      result = await Promise.race([this.sink.send(items), abandoned]);
    } catch (err) {
      result = { kind: "retry", cause: causeOf(err) } as const; // the contract says never throw; be safe anyway
    } finally {
      this.abandon = null;
    }
    if (result === null) return null;
    if (!("perEvent" in result)) return items.map(() => result);
    // A sink that answers for fewer events than it got has not taken the rest.
    return items.map(
      (_, i) =>
        result.perEvent[i] ?? { kind: "retry", cause: "no outcome from the sink for this event" },
    );
  }

  /** Moves the cursor past events it passes over (test events); a failed write is logged and tried again next time. */
  private async advance(to: string): Promise<void> {
    try {
      await this.deps.delivery.saveCursor(this.sink.name, { ...this.cursor, cursor: to });
      this.cursor.cursor = to;
    } catch (err) {
      this.deps.log.error("sink cursor not stored", { sink: this.sink.name, error: causeOf(err) });
    }
  }

  /** Sleeps up to `ms`; shutdown always ends it, new events end it if `wakeable`. True if woken by new events. */
  private wait(ms: number, wakeable: boolean): Promise<boolean> {
    if (this.stopping || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.interrupt = null;
        if (wakeable) this.wakeIdle = null;
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      this.interrupt = () => done(false);
      if (wakeable) this.wakeIdle = () => done(true);
    });
  }
}
