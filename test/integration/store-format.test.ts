/**
 * Store formats: a data directory written by trackd 0.1.0 (store format 1, test/fixtures/store-v1)
 * migrates at open with every event findable by its instance ID, its dead letters and replays
 * kept; a directory from a newer trackd is refused with a clear message.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { openStore } from "../../server/store/open-store.ts";
import { STORE_FORMAT, StoreFormatError } from "../../server/store/store-format.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { makeEvent } from "../helpers/events.ts";
import { tempDir } from "../helpers/test-app.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/store-v1");
interface Manifest {
  events: { eventId: string; accountId: string; instanceId: string }[];
  deadLetters: { sink: string; eventId: string }[];
  replays: { sink: string; eventId: string }[];
}
const manifest: Manifest = JSON.parse(readFileSync(join(FIXTURE, "manifest.json"), "utf8"));

function v1Copy(): string {
  const dir = tempDir();
  cpSync(join(FIXTURE, "trackd.mdb"), join(dir, "trackd.mdb"));
  return dir;
}

const formatOf = async (dir: string) => {
  const root = open({ path: join(dir, "trackd.mdb"), maxDbs: 16, readOnly: true });
  const format = root.openDB({ name: "meta" }).get("schema");
  await root.close();
  return format;
};

describe("store format", () => {
  test("migrates a 0.1.0 data directory: every event is found by its instance ID, dead letters and replays kept", async () => {
    const dir = v1Copy();
    const lines: string[] = [];
    const store = openStore({
      dataDir: dir,
      durability: "durable",
      rejectLogSize: 10,
      log: createLog("info", (l) => lines.push(l)),
    });
    const byPair = new Map<string, string[]>();
    for (const e of manifest.events)
      byPair.set(`${e.accountId}\u0000${e.instanceId}`, [
        ...(byPair.get(`${e.accountId}\u0000${e.instanceId}`) ?? []),
        e.eventId,
      ]);
    expect(byPair.size).toBe(45);
    for (const [pair, ids] of byPair) {
      const at = pair.indexOf("\u0000");
      const [accountId, instanceId] = [pair.slice(0, at), pair.slice(at + 1)];
      expect(store.events.timeline(accountId, instanceId, 100).map((e) => e.eventId)).toEqual(ids);
      expect(
        store.events.list({ accountId, instanceId }, 100).events.map((e) => e.eventId),
      ).toEqual([...ids].reverse());
    }
    expect(store.events.count()).toBe(manifest.events.length);
    for (const d of manifest.deadLetters)
      expect(store.delivery.deadLettersOf(d.eventId, [d.sink])).toHaveLength(1);
    expect(store.delivery.deadLetterCount(manifest.deadLetters[0]!.sink)).toBe(1);
    for (const r of manifest.replays)
      expect(store.delivery.replays(r.sink, 10).map((i) => i.eventId)).toEqual([r.eventId]);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; percent?: number });
    expect(logged[0]!.msg).toContain("migrating the store from format 1 to 2");
    expect(logged.some((l) => l.percent === 100)).toBe(true);
    expect(logged.map((l) => l.msg)).toContain("migrated the store to format 2");
    expect(logged.at(-1)!.msg).toContain("migrated the store to format 3");
    await store.close();
    expect(await formatOf(dir)).toBe(STORE_FORMAT);
    // Nothing is left under the old keys.
    const root = open({ path: join(dir, "trackd.mdb"), maxDbs: 16, readOnly: true });
    expect(root.openDB({ name: "dead-letters", keyEncoding: "binary" }).getKeysCount()).toBe(
      manifest.deadLetters.length,
    );
    expect(root.openDB({ name: "replay-queue", keyEncoding: "binary" }).getKeysCount()).toBe(
      manifest.replays.length,
    );
    await root.close();

    // Opening again does not migrate again.
    lines.length = 0;
    const again = openStore({
      dataDir: dir,
      durability: "durable",
      rejectLogSize: 10,
      log: createLog("info", (l) => lines.push(l)),
    });
    expect(lines).toEqual([]);
    expect(again.events.count()).toBe(manifest.events.length);
    await again.close();
  });

  test("moves a format-2 data directory (0.2.0 to 0.6.x) to format 3: events kept, the long memory starts empty", async () => {
    const dir = tempDir();
    const first = openStore({ dataDir: dir, durability: "durable", rejectLogSize: 10 });
    const event = makeEvent({ eventId: "", instanceId: "chat-format-2" });
    await first.events.append(event);
    await first.close();
    const root = open({ path: join(dir, "trackd.mdb"), maxDbs: 16 });
    root.openDB({ name: "meta" }).putSync("schema", 2);
    root.openDB({ name: "memory" }).dropSync();
    await root.close();
    const lines: string[] = [];
    const store = openStore({
      dataDir: dir,
      durability: "durable",
      rejectLogSize: 10,
      log: createLog("info", (l) => lines.push(l)),
    });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      "migrated the store to format 3: the long memory of visits starts empty",
    ]);
    expect(store.events.memory.count()).toBe(0);
    expect(
      [...store.events.links.entries("1", "instance", "chat-format-2")].map((e) => e.eventId),
    ).toEqual([event.eventId]);
    await store.close();
    expect(await formatOf(dir)).toBe(3);
  });

  test("records the current format in a new data directory", async () => {
    const dir = tempDir();
    await openStore({ dataDir: dir, durability: "durable", rejectLogSize: 10 }).close();
    expect(await formatOf(dir)).toBe(STORE_FORMAT);
  });

  test("refuses a data directory written by a newer trackd, naming both formats", async () => {
    const dir = tempDir();
    await openStore({ dataDir: dir, durability: "durable", rejectLogSize: 10 }).close();
    const root = open({ path: join(dir, "trackd.mdb"), maxDbs: 16 });
    root.openDB({ name: "meta" }).putSync("schema", STORE_FORMAT + 1);
    await root.close();
    let error: unknown;
    try {
      openStore({ dataDir: dir, durability: "durable", rejectLogSize: 10 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreFormatError);
    expect((error as Error).message).toContain(
      `store format ${STORE_FORMAT + 1}, written by a newer trackd`,
    );
    expect((error as Error).message).toContain(`formats up to ${STORE_FORMAT}`);
  });
});
