/**
 * The delivery thread: the sink loops run here, off the request thread, so a sink catching
 * up on a backlog (reading it from LMDB, encoding it, writing files, waiting on the network)
 * does not take the request thread's time. It opens the same LMDB environment (lmdb-js
 * shares one per process), reads events and owns the sinks' cursors and dead letters; the
 * main thread only says "events were committed" and asks for reports.
 */
import { setImmediate } from "node:timers";
import { open, type RootDatabase } from "lmdb";
import { createSinks } from "../sinks/kinds.ts";
import { DeliveryStore } from "../store/delivery-store.ts";
import { EventReader } from "../store/event-reader.ts";
import { eventsDb } from "../store/databases.ts";
import { createLog } from "../telemetry/log.ts";
import { Metrics } from "../telemetry/metrics.ts";
import { type FromDelivery, STATUS_EVERY_MS, type ToDelivery } from "./delivery-protocol.ts";
import { SinkLoops } from "./sink-loops.ts";
import { Pacer } from "./pacer.ts";

declare const self: Worker;

let root: RootDatabase | null = null;
let loops: SinkLoops | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let statusQueued = false;
const pacer = new Pacer();

const reply = (message: FromDelivery) => postMessage(message);

/** Reports every loop's state, at most once per event-loop turn. */
function queueStatus(): void {
  if (statusQueued) return;
  statusQueued = true;
  setImmediate(() => {
    statusQueued = false;
    if (loops) reply({ kind: "status", statuses: loops.statuses() });
  });
}

self.onmessage = async (e: MessageEvent<ToDelivery>) => {
  const message = e.data;
  switch (message.kind) {
    case "start":
      try {
        root = open(message.options);
        const events = new EventReader(eventsDb(root));
        const log = createLog(message.logLevel, undefined, message.journal);
        loops = new SinkLoops(
          createSinks(message.sinks, message.dataDir).map((sink, i) => ({
            sink,
            delivery: message.sinks[i]!.delivery,
          })),
          {
            events,
            delivery: new DeliveryStore(root),
            // The main thread's metrics count from the cursors' counters (delivery-thread.ts).
            metrics: new Metrics(),
            log,
            now: Date.now,
            onProgress: queueStatus,
            pacer,
          },
        );
        loops.start();
        timer = setInterval(queueStatus, STATUS_EVERY_MS);
        reply({ kind: "started" });
        queueStatus();
      } catch (err) {
        reply({ kind: "failed", error: String(err) });
      }
      return;
    case "appended":
      pacer.arrived(message.events);
      loops?.notify();
      return;
    case "report":
      reply({
        kind: "report",
        id: message.id,
        reports: (await loops?.report(message.check)) ?? [],
      });
      return;
    case "stop":
      if (timer) clearInterval(timer);
      await loops?.stop(message.graceMs);
      reply({ kind: "status", statuses: loops?.statuses() ?? [] });
      await root?.close();
      reply({ kind: "stopped" });
      return;
  }
};
