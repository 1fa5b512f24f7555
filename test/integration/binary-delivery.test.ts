/**
 * The compiled binary delivering to a file sink and a webhook while it is killed with
 * SIGKILL, again and again: after a restart every acknowledged event reaches both.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, buildBinary, killAll, startBinary } from "../helpers/binary.ts";
import { waitFor } from "../helpers/ports.ts";
import { startReceiver, type Receiver } from "../helpers/receiver.ts";

let receiver: Receiver;
beforeAll(async () => {
  receiver = startReceiver("hook-secret");
  await buildBinary();
}, 120000);
afterAll(async () => {
  killAll();
  await receiver.stop();
});

const body = (instance: string) =>
  JSON.stringify({
    action: "submit",
    object: "form",
    vendor: "ChatVendor",
    product: "LiveChat Pro",
    instance_id: instance,
  });

function fileEventIds(dir: string): Set<string> {
  const ids = new Set<string>();
  for (const f of readdirSync(dir))
    for (const line of readFileSync(join(dir, f), "utf8").split("\n"))
      if (line) ids.add((JSON.parse(line) as { eventId: string }).eventId); // a torn last line would throw here
  return ids;
}

test("every event acknowledged before a SIGKILL reaches the file sink and the webhook after a restart", async () => {
  const { dir, binary } = await binaryInEmptyDir();
  const files = join(dir, "files");
  const config = join(dir, "trackd.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      sinks: [
        { kind: "file", name: "files", dir: files, delivery: { lingerMs: 5 } },
        {
          kind: "webhook",
          name: "hook",
          url: receiver.url,
          secret: "hook-secret",
          timeoutMs: 2000,
          delivery: { lingerMs: 5, retryInitialMs: 50, retryMaxMs: 500 },
        },
      ],
    }),
  );
  const acked = new Set<string>();
  for (let round = 0; round < 3; round++) {
    const server = await startBinary(binary, dir, ["--config", config]);
    let stop = false;
    let n = 0;
    const clients = Array.from({ length: 12 }, async () => {
      while (!stop) {
        try {
          const res = await fetch(`${server.url}/collect/1001/1/event`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: body(`kill-${round}-${n++}`),
          });
          if (res.status === 204) acked.add(res.headers.get("x-event-id")!);
        } catch {
          return;
        }
      }
    });
    const target = acked.size + 250;
    await waitFor("acknowledged events", () => acked.size >= target, 20000, 5);
    server.proc.kill("SIGKILL"); // mid-delivery: the sinks are still catching up
    stop = true;
    await Promise.all(clients);
    await server.proc.exited;
  }

  const server = await startBinary(binary, dir, ["--config", config]);
  await waitFor(
    "the webhook to receive every acknowledged event",
    () => [...acked].every((id) => receiver.eventIds().includes(id)),
    30000,
    100,
  );
  await waitFor(
    "the files to hold every acknowledged event",
    () => {
      const inFiles = fileEventIds(files);
      return [...acked].every((id) => inFiles.has(id));
    },
    30000,
    100,
  );
  expect(receiver.batches.every((b) => b.signatureValid === true)).toBe(true);
  expect(await server.stop()).toBe(0);
}, 120000);
