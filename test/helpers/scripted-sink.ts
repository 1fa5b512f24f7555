/** An in-memory sink whose outcomes a test scripts (the injected fault), recording what it took. */
import {
  OK,
  type DeliveryItem,
  type SendOutcome,
  type SendResult,
  type Sink,
  type SinkHealth,
} from "../../server/sinks/types.ts";

export class ScriptedSink implements Sink {
  readonly kind = "scripted";
  /** Every batch sent, in order. */
  readonly batches: DeliveryItem[][] = [];
  /** What the next sends answer; when empty, "ok". A function may look at the batch. */
  readonly script: (SendResult | ((batch: DeliveryItem[]) => SendResult) | "hang")[] = [];
  closed = 0;

  constructor(readonly name: string) {}

  /** Event IDs of every event answered ok, in order. */
  readonly accepted: string[] = [];

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    this.batches.push(batch);
    const next = this.script.shift() ?? OK;
    if (next === "hang") return new Promise<SendResult>(() => {});
    const result = typeof next === "function" ? next(batch) : next;
    const outcomes: SendOutcome[] =
      "perEvent" in result ? result.perEvent : batch.map(() => result);
    outcomes.forEach(
      (o, i) => o.kind === "ok" && batch[i] && this.accepted.push(batch[i]!.eventId),
    );
    return result;
  }

  /** When set, health() never answers (a sink whose server does not reply). */
  healthHangs = false;

  async health(): Promise<SinkHealth> {
    if (this.healthHangs) return new Promise(() => {});
    return { ok: true, detail: "scripted" };
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
