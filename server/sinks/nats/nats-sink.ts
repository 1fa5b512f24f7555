/**
 * Publishes each event to NATS JetStream, subject from a template, with `Nats-Msg-Id` set to
 * the event ID so that JetStream drops the duplicates that at-least-once redelivery makes.
 * A batch counts as delivered only when JetStream has acknowledged every message.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsSinkConfig } from "../../config/schema.ts";
import {
  causeOf,
  OK,
  type DeliveryItem,
  type SendOutcome,
  type SendResult,
  type Sink,
  type SinkHealth,
} from "../types.ts";

type Options = Pick<
  NatsSinkConfig,
  | "name"
  | "servers"
  | "subject"
  | "stream"
  | "createStream"
  | "duplicateWindowSeconds"
  | "timeoutMs"
  | "user"
  | "pass"
  | "token"
>;

/** Fills `{accountId}` and `{trackerId}` (IDs are digits, hex and dashes: valid subject tokens). */
export function subjectFor(template: string, accountId: string, trackerId: string): string {
  return template.replaceAll("{accountId}", accountId).replaceAll("{trackerId}", trackerId);
}

/** Publishes awaiting acknowledgement at once. */
const WINDOW = 256;

export class NatsSink implements Sink {
  readonly kind = "nats";
  readonly name: string;
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | null = null;
  private closed = false;

  constructor(private readonly config: Options) {
    this.name = config.name;
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    let js: JetStreamClient;
    try {
      js = (await this.connect()).js;
    } catch (err) {
      return { kind: "retry", cause: causeOf(err) };
    }
    // Publish in windows of WINDOW messages, each pipelined: unbounded outstanding publishes
    // (a batch of thousands at once) made acknowledgements time out and the batch crawl.
    const outcomes: SendOutcome[] = [];
    for (let at = 0; at < batch.length; at += WINDOW) {
      const acks = batch.slice(at, at + WINDOW).map((item) => {
        const { accountId, trackerId } = JSON.parse(item.json) as {
          accountId: string;
          trackerId: string;
        };
        return js
          .publish(subjectFor(this.config.subject, accountId, trackerId), item.json, {
            msgID: item.eventId,
            timeout: this.config.timeoutMs,
          })
          .then(
            (): SendOutcome => OK,
            (err): SendOutcome => ({ kind: "retry", cause: causeOf(err) }),
          );
      });
      outcomes.push(...(await Promise.all(acks)));
      if (outcomes.some((o) => o.kind !== "ok")) break; // the flusher resends from the first failure
    }
    return { perEvent: outcomes };
  }

  /** Connects and asks JetStream which stream captures the subjects (what a publish relies on). */
  async health(): Promise<SinkHealth> {
    try {
      const { nc } = await this.connect();
      const jsm = await jetstreamManager(nc, { timeout: this.config.timeoutMs });
      const stream = await jsm.streams.find(subjectFor(this.config.subject, "0", "0"));
      return stream === this.config.stream
        ? { ok: true, detail: `stream ${stream} captures ${this.config.subject}` }
        : {
            ok: false,
            detail: `subject is captured by stream ${stream}, expected ${this.config.stream}`,
          };
    } catch (err) {
      return { ok: false, detail: causeOf(err) };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connection;
    this.connection = null;
    if (pending) await pending.then(({ nc }) => nc.close()).catch(() => {});
  }

  private connect(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    if (this.closed) return Promise.reject(new Error("sink closed"));
    this.connection ??= (async () => {
      const { servers, user, pass, token, timeoutMs } = this.config;
      const nc = await connect({
        servers,
        user,
        pass,
        token,
        timeout: timeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        name: `trackd-${this.name}`,
      });
      // A connection that closes for good (not a reconnect) is replaced on the next send.
      void nc.closed().then(() => {
        if (this.connection === current) this.connection = null;
      });
      if (this.config.createStream) await this.ensureStream(nc);
      return { nc, js: jetstream(nc, { timeout: timeoutMs }) };
    })();
    const current = this.connection;
    current.catch(() => {
      if (this.connection === current) this.connection = null; // try again next time
    });
    return current;
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc, { timeout: this.config.timeoutMs });
    try {
      await jsm.streams.info(this.config.stream);
    } catch {
      const subject = this.config.subject.replace(/\{accountId\}|\{trackerId\}/g, "*");
      await jsm.streams.add({
        name: this.config.stream,
        subjects: [subject],
        duplicate_window: this.config.duplicateWindowSeconds * 1e9,
      });
    }
  }
}
