/**
 * One suite every sink passes, each against its real destination: files in a temp directory,
 * a real HTTP receiver, a real nats-server with JetStream, and a stream for stdout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { jetstreamManager } from "@nats-io/jetstream";
import { FileSink } from "../../server/sinks/file/file-sink.ts";
import { NatsSink } from "../../server/sinks/nats/nats-sink.ts";
import { StdoutSink } from "../../server/sinks/stdout/stdout-sink.ts";
import type { SendOutcome, SendResult, Sink } from "../../server/sinks/types.ts";
import { WebhookSink } from "../../server/sinks/webhook/webhook-sink.ts";
import { Value } from "@sinclair/typebox/value";
import type { LeadDelivery } from "../../server/events/lead-facts.ts";
import { AdfSinkSchema, type SmtpConfig } from "../../server/sinks/adf/adf-config.ts";
import { AdfSink } from "../../server/sinks/adf/adf-sink.ts";
import { SmtpTransport } from "../../server/sinks/adf/smtp-transport.ts";
import type { SinkContext } from "../../server/sinks/types.ts";
import { makeItems } from "../helpers/events.ts";
import { leadFactsFixture } from "../helpers/lead-facts.ts";
import { type Mailbox, SMTP_PASSWORD, SMTP_USER, startMailbox } from "../helpers/smtp.ts";
import { createNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { freePort } from "../helpers/ports.ts";
import { startReceiver, type Receiver } from "../helpers/receiver.ts";
import { tempDir } from "../helpers/test-app.ts";

interface Fixture {
  kind: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A sink whose destination works. */
  healthy(): Sink;
  /** Event IDs at that destination, in order. */
  delivered(): Promise<string[]>;
  /** A sink whose destination fails in a way that can pass (down, full, refusing for now). */
  broken(): Promise<Sink>;
  /** A sink whose destination refuses for good, or why this kind has no such failure. */
  fatal: (() => Sink) | string;
}

function outcomes(result: SendResult, n: number): SendOutcome[] {
  return "perEvent" in result ? result.perEvent : Array.from({ length: n }, () => result);
}

const fileDir = tempDir("trackd-filesink-");
let receiver: Receiver;
let unavailable: Receiver;
let refusing: Receiver;
let nats: NatsServer;
let stdoutText = "";
let mailbox: Mailbox;

/** An ADF sink e-mailing every event as a lead to `to` at the test's SMTP server on `port`. */
function adfSink(port: number, to: string): Sink {
  const records = new Map<string, LeadDelivery>();
  const context: SinkContext = {
    isLead: () => true,
    leadFacts: (e) =>
      leadFactsFixture({
        eventId: e.eventId,
        receivedAt: e.receivedAt,
        occurredAt: e.occurredAt,
        vendor: e.vendor,
        product: e.product,
        instanceId: e.instanceId,
      }),
    deliveries: {
      get: (id, sink) => records.get(`${id} ${sink}`),
      put: async (id, r) => void records.set(`${id} ${r.sink}`, r),
      of: () => [],
    },
    customer: () => null,
    now: Date.now,
  };
  const smtp = Value.Default(AdfSinkSchema.properties.smtp, {
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    user: SMTP_USER,
    password: SMTP_PASSWORD,
    from: "trackd@dealer.example",
    to: [to],
    timeoutMs: 2000,
  }) as SmtpConfig;
  return new AdfSink(
    { name: "crm", delaySeconds: 0, dealer: {} },
    context,
    new SmtpTransport(smtp),
    "d@dealer.example",
  );
}

const fixtures: Fixture[] = [
  {
    kind: "file",
    setup: async () => {},
    teardown: async () => {},
    healthy: () => new FileSink({ name: "files", dir: fileDir, maxFileBytes: 1 << 20 }),
    delivered: async () =>
      readdirSync(fileDir)
        .sort()
        .flatMap((f) => readFileSync(join(fileDir, f), "utf8").split("\n").filter(Boolean))
        .map((line) => (JSON.parse(line) as { eventId: string }).eventId),
    broken: async () => {
      const blocker = join(tempDir(), "not-a-dir");
      writeFileSync(blocker, "a file where the directory should be");
      return new FileSink({ name: "files", dir: join(blocker, "events"), maxFileBytes: 1 << 20 });
    },
    fatal:
      "a file that cannot be written now may be writable later (disk full, permissions fixed): always retry",
  },
  {
    kind: "webhook",
    setup: async () => {
      receiver = startReceiver("s3cret");
      unavailable = startReceiver();
      unavailable.mode = "unavailable";
      refusing = startReceiver();
      refusing.mode = "bad-request";
    },
    teardown: async () => {
      await Promise.all([receiver.stop(), unavailable.stop(), refusing.stop()]);
    },
    healthy: () =>
      new WebhookSink({
        name: "hook",
        url: receiver.url,
        headers: {},
        timeoutMs: 2000,
        secret: "s3cret",
      }),
    delivered: async () => receiver.eventIds(),
    broken: async () =>
      new WebhookSink({ name: "hook", url: unavailable.url, headers: {}, timeoutMs: 2000 }),
    fatal: () => new WebhookSink({ name: "hook", url: refusing.url, headers: {}, timeoutMs: 2000 }),
  },
  {
    kind: "nats",
    setup: async () => {
      nats = await createNatsServer();
    },
    teardown: async () => nats.destroy(),
    healthy: () =>
      new NatsSink({
        name: "nats",
        servers: [nats.url],
        subject: "trackd.events.{accountId}.{trackerId}",
        stream: "CONTRACT",
        createStream: true,
        duplicateWindowSeconds: 60,
        timeoutMs: 2000,
      }),
    delivered: async () => {
      const jsm = await jetstreamManager(await nats.client());
      const count = (await jsm.streams.info("CONTRACT")).state.messages;
      const ids: string[] = [];
      for (let seq = 1; seq <= count; seq++)
        ids.push((await jsm.streams.getMessage("CONTRACT", { seq }))!.header.get("Nats-Msg-Id"));
      return ids;
    },
    broken: async () =>
      new NatsSink({
        name: "nats",
        servers: [`127.0.0.1:${await freePort()}`],
        subject: "trackd.events.{accountId}.{trackerId}",
        stream: "CONTRACT",
        createStream: false,
        duplicateWindowSeconds: 60,
        timeoutMs: 500,
      }),
    fatal:
      "JetStream being down or missing a stream is fixed by operators, never by dropping events: always retry",
  },
  {
    kind: "adf",
    setup: async () => {
      mailbox = await startMailbox();
      mailbox.refused.add("gone@crm.example");
    },
    teardown: async () => mailbox.stop(),
    healthy: () => adfSink(mailbox.port, "leads@crm.example"),
    delivered: async () =>
      mailbox.messages.map((m) => /<id sequence="1" source="trackd">([^<]+)</.exec(m.text!)![1]!),
    broken: async () => adfSink(await freePort(), "leads@crm.example"),
    fatal: () => adfSink(mailbox.port, "gone@crm.example"),
  },
  {
    kind: "stdout",
    setup: async () => {},
    teardown: async () => {},
    healthy: () =>
      new StdoutSink(
        "out",
        new Writable({
          write(chunk, _encoding, callback) {
            stdoutText += chunk.toString();
            callback();
          },
        }),
      ),
    delivered: async () =>
      stdoutText
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { eventId: string }).eventId),
    broken: async () =>
      new StdoutSink(
        "out",
        new Writable({
          write: (_c, _e, callback) => callback(new Error("EPIPE: reader went away")),
        }),
      ),
    fatal: "a closed pipe may be reopened by the supervisor: always retry",
  },
];

for (const f of fixtures) {
  describe(`${f.kind} sink`, () => {
    beforeAll(() => f.setup(), 300000);
    afterAll(() => f.teardown());

    test("delivers batches completely and in order", async () => {
      const sink = f.healthy();
      const first = makeItems(5, `${f.kind}-a`);
      const second = makeItems(3, `${f.kind}-b`);
      for (const batch of [first, second])
        expect(outcomes(await sink.send(batch), batch.length).every((o) => o.kind === "ok")).toBe(
          true,
        );
      expect(await f.delivered()).toEqual([...first, ...second].map((i) => i.eventId));
      await sink.close();
    });

    test("asks the flusher to retry, with a cause, when its destination fails", async () => {
      const sink = await f.broken();
      const result = outcomes(await sink.send(makeItems(2, `${f.kind}-broken`)), 2);
      expect(result[0]!.kind).toBe("retry");
      expect((result[0] as { cause: string }).cause.length).toBeGreaterThan(0);
      await sink.close();
    });

    test(
      typeof f.fatal === "string"
        ? `never calls a failure fatal (${f.fatal})`
        : "reports fatal when the destination refuses for good",
      async () => {
        if (typeof f.fatal === "string") {
          const sink = await f.broken();
          for (const o of outcomes(await sink.send(makeItems(1, `${f.kind}-never-fatal`)), 1))
            expect(o.kind).not.toBe("fatal");
          await sink.close();
          return;
        }
        const sink = f.fatal();
        const [o] = outcomes(await sink.send(makeItems(1, `${f.kind}-fatal`)), 1);
        expect(o!.kind).toBe("fatal");
        await sink.close();
      },
    );

    test("passes its health check when healthy and fails it when broken", async () => {
      const good = f.healthy();
      expect(await good.health()).toMatchObject({ ok: true });
      const bad = await f.broken();
      const health = await bad.health();
      expect(health.ok).toBe(false);
      expect(health.detail.length).toBeGreaterThan(0);
      await Promise.all([good.close(), bad.close()]);
    });

    test("closes twice without error, and answers retry (not a throw) after close", async () => {
      const sink = f.healthy();
      await sink.send(makeItems(1, `${f.kind}-before-close`));
      await sink.close();
      await sink.close();
      if (f.kind !== "stdout" && f.kind !== "file")
        expect(outcomes(await sink.send(makeItems(1, "after-close")), 1)[0]!.kind).toBe("retry");
    });
  });
}
