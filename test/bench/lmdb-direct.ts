/**
 * The one-thread design probe of ../shared/perf/lmdb-direct.ts, as the bench runs it (PORT=0
 * picks a port, printed): Bun.serve reads and validates the body, makes a time-ordered ID, and
 * puts the event plus two index entries with lmdb-js's own batched asynchronous writes.
 * MODE=durable answers after `flushed` (fsynced), MODE=relaxed after the commit. It is not
 * trackd: it shows what one thread and lmdb-js do on this machine, the bar trackd is held to.
 */
import { open } from "lmdb";

const durable = process.env.MODE !== "relaxed";
const env = open({ path: process.env.DIR!, mapSize: 4 * 1024 ** 3, noMemInit: true });
const events = env.openDB({ name: "events", encoding: "string" });
const links = env.openDB({ name: "links", encoding: "binary" });
let seq = 0;
const EMPTY = new Uint8Array(0);
const REQUIRED = ["action", "object", "vendor", "product", "instance_id"];

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(req) {
    const body = JSON.parse(await req.text());
    for (const k of REQUIRED)
      if (typeof body[k] !== "string" || body[k] === "")
        return new Response("bad", { status: 400 });
    const id = `${Date.now().toString(16).padStart(12, "0")}-${(seq++).toString(16).padStart(8, "0")}`;
    body.eventId = id;
    events.put(id, JSON.stringify(body));
    links.put(["i", "1", body.instance_id, id], EMPTY);
    const p = links.put(["s", "1", id], EMPTY);
    await (durable ? p.then(() => env.flushed) : p);
    return new Response(null, { status: 204, headers: { "X-Event-Id": id } });
  },
});
console.log(`probe listening on ${server.port}`);
