import { describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FileSink } from "../../server/sinks/file/file-sink.ts";
import { makeItems } from "../helpers/events.ts";
import { tempDir } from "../helpers/test-app.ts";

const lines = (dir: string, file: string) =>
  readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean);

describe("file sink", () => {
  test("rotates to a new file when the next batch would pass maxFileBytes", async () => {
    const dir = tempDir();
    const sink = new FileSink({
      name: "f",
      dir,
      maxFileBytes: 2000,
      now: () => Date.parse("2026-03-04T10:00:00Z"),
    });
    for (let i = 0; i < 6; i++)
      expect(await sink.send(makeItems(2, `r${i}`))).toEqual({ kind: "ok" });
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toBe("events-2026-03-04-0000.ndjson");
    expect(files.flatMap((f) => lines(dir, f))).toHaveLength(12);
    await sink.close();
  });

  test("starts a new file each UTC day", async () => {
    const dir = tempDir();
    let now = Date.parse("2026-03-04T23:59:59Z");
    const sink = new FileSink({ name: "f", dir, maxFileBytes: 1 << 20, now: () => now });
    await sink.send(makeItems(1, "late"));
    now += 2000;
    await sink.send(makeItems(1, "early"));
    expect(readdirSync(dir).sort()).toEqual([
      "events-2026-03-04-0000.ndjson",
      "events-2026-03-05-0000.ndjson",
    ]);
    await sink.close();
  });

  test("appends to today's newest file after a restart, cutting a line torn by a crash", async () => {
    const dir = tempDir();
    const now = () => Date.parse("2026-03-04T10:00:00Z");
    const first = new FileSink({ name: "f", dir, maxFileBytes: 1 << 20, now });
    const before = makeItems(2, "before");
    await first.send(before);
    await first.close();
    appendFileSync(join(dir, "events-2026-03-04-0000.ndjson"), '{"eventId":"torn-by-a-cra'); // what kill -9 mid-write leaves
    const second = new FileSink({ name: "f", dir, maxFileBytes: 1 << 20, now });
    const after = makeItems(1, "after");
    await second.send(after);
    const got = lines(dir, "events-2026-03-04-0000.ndjson").map(
      (l) => (JSON.parse(l) as { eventId: string }).eventId,
    );
    expect(got).toEqual([...before, ...after].map((i) => i.eventId));
    await second.close();
  });

  test("an erasure record deletes the events it names from every file, its own line kept", async () => {
    const dir = tempDir();
    let now = Date.parse("2026-03-04T23:59:59Z");
    const sink = new FileSink({ name: "f", dir, maxFileBytes: 1 << 20, now: () => now });
    const monday = makeItems(3, "mon");
    await sink.send(monday);
    now += 2000;
    const tuesday = makeItems(3, "tue");
    await sink.send(tuesday);
    const erased = [monday[1]!.eventId, tuesday[0]!.eventId];
    const record = {
      eventId: crypto.randomUUID(),
      json: JSON.stringify({
        eventId: "0".repeat(8),
        action: "erase",
        object: "shopper",
        properties: { erasure: { operationId: "op", eventIds: erased } },
        context: { source: "trackd" },
      }),
    };
    expect(await sink.send([record])).toEqual({ kind: "ok" });
    const ids = (file: string) =>
      lines(dir, file).map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    expect(ids("events-2026-03-04-0000.ndjson")).toEqual([monday[0]!.eventId, monday[2]!.eventId]);
    expect(ids("events-2026-03-05-0000.ndjson")).toEqual([
      tuesday[1]!.eventId,
      tuesday[2]!.eventId,
      "0".repeat(8),
    ]);
    // Later batches append to the rewritten file; nothing temporary is left.
    const later = makeItems(1, "later");
    await sink.send(later);
    expect(ids("events-2026-03-05-0000.ndjson").at(-1)).toBe(later[0]!.eventId);
    expect(readdirSync(dir).sort()).toEqual([
      "events-2026-03-04-0000.ndjson",
      "events-2026-03-05-0000.ndjson",
    ]);
    await sink.close();
  });
});
