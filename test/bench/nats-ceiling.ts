/**
 * The JetStream sink's own ceiling: how fast the NATS client library publishes to a stream
 * with acknowledgements and `Nats-Msg-Id`, with nothing else in the process (no LMDB, no
 * cursor), as a `nats bench` publisher would, with the sink's window of pipelined publishes
 * and messages the size of a stored event.
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { WINDOW } from "../../server/sinks/nats/nats-sink.ts";
import { makeEvent } from "../helpers/events.ts";

/** Messages per second published and acknowledged (`messages` of them, WINDOW in flight). */
export async function natsPublishCeiling(url: string, messages: number): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const stream = `CEILING${Date.now()}`;
    await (await jetstreamManager(nc)).streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      duplicate_window: 120e9,
    });
    const js = jetstream(nc);
    const payload = JSON.stringify(makeEvent({ instanceId: "ceiling" }));
    let next = 0;
    const lane = async () => {
      while (next < messages) {
        const i = next++;
        await js.publish(`${stream}.1.1`, payload, { msgID: `${stream}-${i}`, timeout: 10000 });
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: WINDOW }, lane));
    return messages / ((performance.now() - started) / 1000);
  } finally {
    await nc.close();
  }
}
