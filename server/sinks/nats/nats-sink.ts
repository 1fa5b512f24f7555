/**
 * Publishes each event to NATS JetStream, subject from a template, with `Nats-Msg-Id` set to
 * the event ID so that JetStream drops the duplicates that at-least-once redelivery makes.
 * A batch counts as delivered only when JetStream has acknowledged every message.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsSinkConfig } from "./nats-config.ts";
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

/**
 * Publishes awaiting acknowledgement at once. The window slides: a new publish goes out as
 * each acknowledgement comes back, so the connection never drains to empty inside a batch
 * (windows awaited whole ran at a third of the client's own pipelined rate). 1024 measured
 * best against a local nats-server; thousands at once made acknowledgements time out.
 */
export const WINDOW = 1024;

/**
 * The value of `"key":"..."` in a stored event's JSON, read without parsing it: trackd
 * writes the event itself (JSON.stringify), and IDs hold no characters that JSON escapes.
 */
function idField(json: string, key: string): string | null {
  const marker = `"${key}":"`;
  const at = json.indexOf(marker);
  if (at < 0) return null;
  const from = at + marker.length;
  const to = json.indexOf('"', from);
  return to < 0 ? null : json.slice(from, to);
}

export class NatsSink implements Sink {
  readonly kind = "nats";
  readonly name: string;
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | null = null;
  private closed = false;
  private readonly templated: boolean;

  constructor(private readonly config: Options) {
    this.name = config.name;
    this.templated = config.subject.includes("{");
  }

  /** The subject of one stored event. */
  private subjectOf(json: string): string {
    if (!this.templated) return this.config.subject;
    let accountId = idField(json, "accountId");
    let trackerId = idField(json, "trackerId");
    if (accountId === null || trackerId === null)
      ({ accountId, trackerId } = JSON.parse(json) as { accountId: string; trackerId: string });
    return subjectFor(this.config.subject, accountId!, trackerId!);
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    let js: JetStreamClient;
    try {
      js = (await this.connect()).js;
    } catch (err) {
      return { kind: "retry", cause: causeOf(err) };
    }
    const outcomes: SendOutcome[] = new Array(batch.length);
    let next = 0;
    let failed = false;
    // WINDOW publishes in flight, each acknowledgement starting the next; after a failure no
    // new publish starts (delivery resends from the first event without an "ok").
    const lane = async () => {
      while (next < batch.length && !failed) {
        const i = next++;
        const item = batch[i]!;
        try {
          await js.publish(this.subjectOf(item.json), item.json, {
            msgID: item.eventId,
            timeout: this.config.timeoutMs,
          });
          outcomes[i] = OK;
        } catch (err) {
          outcomes[i] = { kind: "retry", cause: this.publishCause(err, item.json) };
          failed = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, batch.length) }, lane));
    // Events never published (after a failure) are retried: the outcome list stops at the first gap.
    // biome-ignore lint/complexity/useIndexOf: a sparse array's holes are undefined to findIndex, skipped by indexOf.
    const firstGap = outcomes.findIndex((o) => o === undefined);
    return { perEvent: firstGap < 0 ? outcomes : outcomes.slice(0, firstGap) };
  }

  /**
   * Why a publish failed, in an operator's words: the client says "jetstream is not enabled"
   * when no stream captures the subject (nobody answers the publish).
   */
  private publishCause(err: unknown, json: string): string {
    const cause = causeOf(err);
    if (!/JetStreamNotEnabled|no responders/i.test(cause)) return cause;
    return `no JetStream stream captures ${this.subjectOf(json)} (${cause}): create stream ${this.config.stream} for it, or set createStream = true`;
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
