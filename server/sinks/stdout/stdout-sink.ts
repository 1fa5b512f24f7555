/** NDJSON of every event on standard output, for piping into other tools (logs go to stderr). */
import { ndjson } from "../ndjson.ts";
import {
  causeOf,
  OK,
  type DeliveryItem,
  type SendResult,
  type Sink,
  type SinkHealth,
} from "../types.ts";

export class StdoutSink implements Sink {
  readonly kind = "stdout";

  constructor(
    readonly name: string,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    // A write error (EPIPE when the reader goes away) is also emitted as an event; without a
    // listener it would crash the process. The write callback already reports it as a retry.
    out.on("error", () => {});
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    try {
      await this.write(ndjson(batch));
      return OK;
    } catch (err) {
      return { kind: "retry", cause: causeOf(err) };
    }
  }

  async health(): Promise<SinkHealth> {
    try {
      await this.write("");
      return { ok: true, detail: "stdout writable" };
    } catch (err) {
      return { ok: false, detail: causeOf(err) };
    }
  }

  async close(): Promise<void> {}

  /** Resolves once the stream has taken the text (its callback), so a batch is not counted early. */
  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(text, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
