/**
 * Property test of the instance index over real-shaped IDs: UUID and 18-digit account and
 * tracker IDs, instance IDs of every length up to the limit, any Unicode (NUL included) and
 * the naughty strings. The timeline and the instance filter return
 * exactly the events posted under that (account, instance ID), in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { instanceId, pathId, NAUGHTY } from "../helpers/ids.ts";
import { createTestApp, validEvent, type TestApp } from "../helpers/test-app.ts";

const MAX = 400; // the ceiling of limits.maxFieldLength, set here
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ limits: { maxFieldLength: MAX } });
});
afterAll(() => t.close());

/** Posted event IDs per (account, instance ID), oldest first. */
const posted = new Map<string, string[]>();
const pairKey = (a: string, i: string) => JSON.stringify([a, i]);

async function post(aid: string, tid: string, instance: string): Promise<void> {
  const res = await t.collect(validEvent({ instance_id: instance }), { aid, tid });
  expect(res.status).toBe(204);
  const key = pairKey(aid.toLowerCase(), instance.trim());
  posted.set(key, [...(posted.get(key) ?? []), res.headers.get("x-event-id")!]);
}

async function timelineOf(
  accountId: string,
  instance: string,
): Promise<{ timeline: string[]; filtered: string[] }> {
  const timeline = (await (
    await t.admin(
      `/instances/${encodeURIComponent(accountId)}?instanceId=${encodeURIComponent(instance)}`,
    )
  ).json()) as { events: TrackedEvent[] };
  if (instance !== "." && instance !== "..") {
    // The path form: URLs cannot carry "." or ".." as a segment (the query form above can).
    const byPath = (await (
      await t.admin(`/instances/${encodeURIComponent(accountId)}/${encodeURIComponent(instance)}`)
    ).json()) as { events: TrackedEvent[] };
    expect(byPath.events).toEqual(timeline.events);
  }
  const list = (await (
    await t.admin(
      `/events?accountId=${encodeURIComponent(accountId)}&instanceId=${encodeURIComponent(instance)}&limit=500`,
    )
  ).json()) as { events: TrackedEvent[] };
  for (const e of timeline.events)
    expect([e.accountId, e.instanceId]).toEqual([accountId, instance]);
  return {
    timeline: timeline.events.map((e) => e.eventId),
    filtered: list.events.map((e) => e.eventId),
  };
}

describe("instance timelines for every real ID", () => {
  test("return exactly the events posted under an (account, instance ID), oldest first, and the filter newest first", async () => {
    await fc.assert(
      fc.asyncProperty(
        pathId,
        pathId,
        instanceId(MAX),
        fc.integer({ min: 1, max: 3 }),
        async (aid, tid, instance, n) => {
          for (let i = 0; i < n; i++) await post(aid, tid, instance);
          const expected = posted.get(pairKey(aid.toLowerCase(), instance.trim()))!;
          const { timeline, filtered } = await timelineOf(aid.toLowerCase(), instance.trim());
          expect(timeline).toEqual(expected);
          expect(filtered).toEqual([...expected].reverse());
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 200) },
    );
  }, 120000);

  test("keeps instance IDs apart that share a prefix, differ by NUL or differ only past 64 bytes", async () => {
    const aid = "5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11";
    const ids = [
      "chat",
      "chat\u0000",
      "chat\u0000x",
      `chat-${"y".repeat(100)}`,
      `chat-${"y".repeat(100)}z`,
      "5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c12",
      "x".repeat(MAX),
    ];
    for (const id of ids) await post(aid, "1", id);
    for (const id of ids)
      expect((await timelineOf(aid, id)).timeline).toEqual(posted.get(pairKey(aid, id))!);
  });

  test("finds every naughty string as an instance ID under a UUID account", async () => {
    const aid = "0b6f3a52-7c1e-4d2a-9f4b-3e8d2c1a5b7f";
    const naughty = NAUGHTY.filter((s) => s.trim().length > 0 && s.trim().length <= MAX);
    for (const s of naughty) await post(aid, "2", s);
    for (const s of naughty)
      expect((await timelineOf(aid, s.trim())).timeline).toEqual(
        posted.get(pairKey(aid, s.trim()))!,
      );
  }, 60000);

  test("remembers a client's event ID under UUID account and tracker IDs sent in either case", async () => {
    const [aid, tid] = [
      "0B6F3A52-7C1E-4D2A-9F4B-3E8D2C1A5B7F",
      "9E8D7C6B-5A4F-4E3D-8C2B-1A0F9E8D7C6B",
    ];
    const body = validEvent({ eventId: crypto.randomUUID(), instance_id: "retry-uuid" });
    const first = await t.collect(body, { aid, tid });
    const again = await t.collect(body, { aid: aid.toLowerCase(), tid: tid.toLowerCase() });
    expect(again.headers.get("x-duplicate")).toBe("true");
    expect(again.headers.get("x-event-id")).toBe(first.headers.get("x-event-id"));
  });
});
