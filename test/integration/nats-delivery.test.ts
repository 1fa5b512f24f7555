/**
 * Delivery into a real nats-server with JetStream, started by the test on a free port:
 * subjects, an outage mid-run, deduplicated redelivery after a lost cursor, and two trackd
 * instances feeding one stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsSink } from "../../server/sinks/nats/nats-sink.ts";
import { openStore } from "../../server/store/open-store.ts";
import { createDeliveryApp, postMany, type DeliveryApp } from "../helpers/delivery-app.ts";
import { createNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { waitFor } from "../helpers/ports.ts";
import { BASE, validEvent } from "../helpers/test-app.ts";

let nats: NatsServer;
beforeAll(async () => {
  nats = await createNatsServer();
}, 300000);
afterAll(() => nats.destroy());

const natsSink = (stream: string, prefix: string) =>
  new NatsSink({
    name: "stream",
    servers: [nats.url],
    subject: `${prefix}.{accountId}.{trackerId}`,
    stream,
    createStream: true,
    duplicateWindowSeconds: 3600,
    timeoutMs: 1000,
  });

/** Every message in a stream: subject, Nats-Msg-Id and body. */
async function streamContents(
  stream: string,
): Promise<{ subject: string; msgId: string; body: string }[]> {
  const jsm = await jetstreamManager(await nats.client());
  const { messages, first_seq } = (await jsm.streams.info(stream)).state;
  const out = [];
  for (let seq = first_seq; seq < first_seq + messages; seq++) {
    const m = (await jsm.streams.getMessage(stream, { seq }))!;
    out.push({ subject: m.subject, msgId: m.header.get("Nats-Msg-Id"), body: m.string() });
  }
  return out;
}

const count = async (stream: string) => {
  try {
    return await nats.streamMessages(stream);
  } catch {
    return 0; // not created yet
  }
};

async function postTo(d: DeliveryApp, aid: string, tid: string, instance: string): Promise<string> {
  const res = await d.app.handle(
    new Request(`${BASE}/collect/${aid}/${tid}/event`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(validEvent({ instance_id: instance })),
    }),
  );
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

describe("NATS JetStream delivery", () => {
  test("publishes each event on its subject with Nats-Msg-Id set to the event ID", async () => {
    const d = await createDeliveryApp([natsSink("SUBJECTS", "s")]);
    const a = await postTo(d, "12", "34", "x");
    const b = await postTo(d, "123e4567-e89b-12d3-a456-426614174000", "7", "y");
    await waitFor("two messages", async () => (await count("SUBJECTS")) === 2);
    const contents = await streamContents("SUBJECTS");
    expect(contents.map((m) => [m.subject, m.msgId])).toEqual([
      ["s.12.34", a],
      ["s.123e4567-e89b-12d3-a456-426614174000.7", b],
    ]);
    expect(contents[0]!.body).toBe(d.store.events.getJson(a)!);
    await d.destroy();
  });

  test("loses nothing when nats-server stops mid-run and comes back", async () => {
    const d = await createDeliveryApp([natsSink("OUTAGE", "o")]);
    const before = await postMany(d, 20, "before-outage");
    await waitFor("the first events", async () => (await count("OUTAGE")) === 20);
    await nats.stop();
    const during = await postMany(d, 30, "during-outage"); // stored and acknowledged while NATS is down
    await waitFor("the flusher to notice the outage", async () => {
      const [sink] = ((await (await d.admin("/sinks")).json()) as { sinks: { retries: number }[] })
        .sinks;
      return sink!.retries > 0;
    });
    await nats.start();
    const after = await postMany(d, 10, "after-outage");
    const all = [...before, ...during, ...after];
    await waitFor(
      "every event in the stream",
      async () => (await count("OUTAGE")) >= all.length,
      30000,
      100,
    );
    const ids = (await streamContents("OUTAGE")).map((m) => m.msgId);
    expect(new Set(ids)).toEqual(new Set(all));
    expect(ids.length).toBe(all.length); // retried publishes were deduplicated
    await d.destroy();
  }, 60000);

  test("drops the duplicates of a redelivery after a crash, by Nats-Msg-Id", async () => {
    const d = await createDeliveryApp([natsSink("REDELIVER", "r")]);
    const ids = await postMany(d, 25, "redeliver");
    await waitFor("delivery", async () => (await count("REDELIVER")) === 25);
    await d.stop();
    // A crash between publishing and saving the cursor: the next start resends everything.
    const store = openStore({ dataDir: d.dir, durability: "durable", rejectLogSize: 10 });
    await store.delivery.saveCursor("stream", { cursor: "", delivered: 0, failed: 0, retries: 0 });
    await store.close();
    const again = await createDeliveryApp([natsSink("REDELIVER", "r")], { dir: d.dir });
    await waitFor("the resend", async () => {
      const [sink] = (
        (await (await again.admin("/sinks")).json()) as {
          sinks: { delivered: number; lag: { events: number } }[];
        }
      ).sinks;
      return sink!.delivered === 25 && sink!.lag.events === 0;
    });
    expect(await count("REDELIVER")).toBe(25);
    expect((await streamContents("REDELIVER")).map((m) => m.msgId)).toEqual(ids);
    await again.destroy();
  });

  test("takes events from two trackd instances into one stream", async () => {
    const one = await createDeliveryApp([natsSink("SHARED", "shared")]);
    const two = await createDeliveryApp([natsSink("SHARED", "shared")]);
    const fromOne = await postMany(one, 15, "node-one");
    const fromTwo = await postMany(two, 15, "node-two");
    await waitFor("both nodes' events", async () => (await count("SHARED")) === 30);
    expect(new Set((await streamContents("SHARED")).map((m) => m.msgId))).toEqual(
      new Set([...fromOne, ...fromTwo]),
    );
    await Promise.all([one.destroy(), two.destroy()]);
  });
});
