import { describe, expect, test } from "bun:test";
import { openStore, type Durability } from "../../server/store/open-store.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { makeEvent } from "../helpers/events.ts";
import { clientKey } from "../../server/store/client-ids.ts";
import { tempDir } from "../helpers/test-app.ts";

const event = (overrides: Partial<TrackedEvent> = {}) =>
  makeEvent({ instanceId: "chat-1", properties: {}, ...overrides });

for (const durability of ["durable", "relaxed"] as Durability[]) {
  describe(`store (${durability})`, () => {
    test("keeps appended events, the instance index and counters across a close and reopen", async () => {
      const dir = tempDir();
      let store = openStore({ dataDir: dir, durability, rejectLogSize: 10 });
      const written = [
        event(),
        event({ instanceId: "chat-2", source: undefined } as never),
        event({ trackerId: "3" }),
        event({ test: true }),
      ];
      await Promise.all(written.map((e) => store.events.append(e))); // concurrent appends share a commit
      await store.close();

      store = openStore({ dataDir: dir, durability, rejectLogSize: 10 });
      for (const e of written)
        expect(store.events.get(e.eventId)).toEqual(JSON.parse(JSON.stringify(e)));
      expect(store.events.timeline("1", "chat-1", 100).map((e) => e.eventId)).toEqual([
        written[0]!.eventId,
        written[2]!.eventId,
        written[3]!.eventId,
      ]);
      expect(store.stats.get("1", "2")).toMatchObject({ accepted: 2, test: 1 });
      expect(store.stats.get("1", "3")).toMatchObject({ accepted: 1 });
      await store.close();
    });
  });
}

describe("store", () => {
  test("deletes an event's link index entries with the event", async () => {
    const store = openStore({ dataDir: tempDir(), durability: "durable", rejectLogSize: 10 });
    const linked = { userId: "u-1", emailSha256: "A".repeat(64) }; // no device: every entry is written
    const old = event({ instanceId: "5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11", properties: linked });
    const kept = event({ instanceId: "5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11", properties: linked });
    await store.events.append(old);
    await store.events.append(kept);
    const ids = (kind: string, value: string) =>
      [...store.events.links.entries("1", kind, value)].map((e) => e.eventId);
    expect(ids("email", "a".repeat(64))).toEqual([old.eventId, kept.eventId]);
    expect([...store.events.links.entries("1", "user", "u-1")][0]!.shopper).toBe("u:u-1");
    expect(await store.events.deleteUpTo(old.eventId, 100, "")).toBe(1);
    await store.delivery.saveCursor("x", { cursor: "", delivered: 0, failed: 0, retries: 0 }); // a later write: the removals before it are committed
    for (const [kind, value] of [
      ["instance", old.instanceId],
      ["user", "u-1"],
      ["email", "a".repeat(64)],
      ["server", ""],
    ] as const)
      expect(ids(kind, value)).toEqual([kept.eventId]);
    await store.close();
  });

  test("indexes a device's repeated user, email and phone once a day, and every event's instance and device", async () => {
    const store = openStore({ dataDir: tempDir(), durability: "durable", rejectLogSize: 10 });
    const identified = {
      deviceId: "d-1",
      userId: "u-1",
      emailSha256: "b".repeat(64),
      phoneSha256: "c".repeat(64),
    };
    const browser = Array.from({ length: 3 }, (_, i) =>
      event({
        instanceId: `visit-${i}`,
        properties: identified,
        context: { ip: null, userAgent: null, origin: null, referer: null, source: "browser" },
      }),
    );
    const lead = event({ instanceId: "lead-1", properties: { emailSha256: "b".repeat(64) } });
    for (const e of [...browser, lead]) await store.events.append(e);
    const entries = (kind: string, value: string) =>
      [...store.events.links.entries("1", kind, value)].map((e) => [e.eventId, e.shopper]);
    expect(entries("device", "d-1").map(([id]) => id)).toEqual(browser.map((e) => e.eventId));
    for (const [i, e] of browser.entries())
      expect(entries("instance", `visit-${i}`)).toEqual([[e.eventId, "d:d-1"]]);
    for (const [kind, value] of [
      ["user", "u-1"],
      ["phone", "c".repeat(64)],
    ])
      expect(entries(kind!, value!)).toEqual([[browser[0]!.eventId, "d:d-1"]]);
    expect(entries("email", "b".repeat(64))).toEqual([
      [browser[0]!.eventId, "d:d-1"],
      [lead.eventId, `e:${"b".repeat(64)}`],
    ]);
    await store.close();
  });

  test("commits events in the order they were appended, and a failed commit fails only its own appends", async () => {
    const store = openStore({ dataDir: tempDir(), durability: "durable", rejectLogSize: 10 });
    // Appended across several event-loop turns while earlier commits are still in flight.
    const first = Array.from({ length: 50 }, () => event());
    const pending = first.map((e) => store.events.append(e));
    await new Promise((r) => setTimeout(r, 0));
    const second = Array.from({ length: 50 }, () => event());
    await Promise.all([...pending, ...second.map((e) => store.events.append(e))]);
    const ids = [...first, ...second].map((e) => e.eventId);
    expect(store.events.readAfter("", 1000, 1 << 30).items.map((i) => i.eventId)).toEqual(ids);
    expect(store.events.count()).toBe(100);
    await store.close();
  });

  test("reopens a relaxed database in durable mode and back", async () => {
    const dir = tempDir();
    let store = openStore({ dataDir: dir, durability: "relaxed", rejectLogSize: 10 });
    const a = event();
    await store.events.append(a);
    await store.close();
    store = openStore({ dataDir: dir, durability: "durable", rejectLogSize: 10 });
    const b = event();
    await store.events.append(b);
    await store.close();
    store = openStore({ dataDir: dir, durability: "relaxed", rejectLogSize: 10 });
    expect(store.events.count()).toBe(2);
    await store.close();
  });

  test("keeps the reject log bounded, dropping the oldest", async () => {
    const dir = tempDir();
    const store = openStore({ dataDir: dir, durability: "durable", rejectLogSize: 20 });
    for (let i = 0; i < 100; i++)
      store.rejects.record(
        {
          at: new Date().toISOString(),
          status: 400,
          code: "invalid_event",
          details: [],
          accountId: "1",
          trackerId: "1",
          ip: null,
          userAgent: null,
          sample: `#${i}`,
        },
        true,
      );
    await store.rejects.written();
    const kept = store.rejects.list({ limit: 500 });
    expect(kept.length).toBeGreaterThanOrEqual(20);
    expect(kept.length).toBeLessThanOrEqual(22);
    expect(kept[0]!.sample).toBe("#99");
    expect(store.stats.get("1", "1")!.rejected).toBe(100);
    await store.close();
  });

  test("rebuilds the last day's per-tracker activity after a reopen", async () => {
    const dir = tempDir();
    let store = openStore({ dataDir: dir, durability: "relaxed", rejectLogSize: 10 });
    const now = Date.now();
    const old = new Date(now - 3 * 3600_000).toISOString();
    await Promise.all(
      [event(), event(), event({ receivedAt: old })].map((e) => store.events.append(e)),
    );
    await store.close();
    store = openStore({ dataDir: dir, durability: "relaxed", rejectLogSize: 10 });
    await store.activityReady;
    expect(store.stats.recent("1", "2", now)).toEqual({ lastHour: 2, lastDay: 3 });
    await store.close();
  });

  test("truncates reject samples", async () => {
    const store = openStore({ dataDir: tempDir(), durability: "durable", rejectLogSize: 5 });
    store.rejects.record(
      {
        at: "",
        status: 400,
        code: "invalid_json",
        details: [],
        accountId: "1",
        trackerId: "1",
        ip: null,
        userAgent: null,
        sample: "x".repeat(5000),
      },
      true,
    );
    await store.rejects.written();
    expect(store.rejects.list({ limit: 1 })[0]!.sample.length).toBe(512);
    await store.close();
  });
});

describe("the event writer", () => {
  test("makes event IDs in commit order, and stores a client key once", async () => {
    const store = openStore({ dataDir: tempDir(), durability: "relaxed", rejectLogSize: 10 });
    const unassigned = (instanceId: string) => event({ eventId: "", instanceId });
    const key = clientKey("1", "2", "9b6cf0a3-41f4-4a52-8f55-0f1f6d1c2a77");
    const ours = [unassigned("a"), unassigned("b"), unassigned("c")];
    const results = await Promise.all([
      store.events.append(ours[0]!, Date.now(), key),
      store.events.append(ours[1]!, Date.now(), key),
      store.events.append(ours[2]!),
    ]);
    // The same client key twice in one commit: stored once, the other told its ID.
    expect(results[0]!.duplicate).toBe(false);
    expect(results[1]).toEqual({
      eventId: results[0]!.eventId,
      duplicate: true,
      kept: "committed",
      size: 0,
    });
    expect(store.events.get(results[2]!.eventId)!.instanceId).toBe("c");
    expect(ours[0]!.eventId).toBe(results[0]!.eventId); // the event is given its ID
    const later = await store.events.append(unassigned("d"));
    const keys = [...store.events.list({}, 10).events].map((e) => e.eventId).reverse();
    expect(keys).toEqual([results[0]!.eventId, results[2]!.eventId, later.eventId]);
    expect(keys).toEqual([...keys].sort());
    expect(store.events.getJson(later.eventId)!.startsWith(`{"eventId":"${later.eventId}"`)).toBe(
      true,
    );
    await store.close();
  });
});
