import { describe, expect, test } from "bun:test";
import { createDeliveryApp, postMany } from "../helpers/delivery-app.ts";
import { waitFor } from "../helpers/ports.ts";
import { ScriptedSink } from "../helpers/scripted-sink.ts";
import type { DeliveryItem } from "../../server/sinks/types.ts";

describe("the sink loops (delivery in process)", () => {
  test("delivers every stored event to every sink in order, and never test events", async () => {
    const a = new ScriptedSink("a");
    const b = new ScriptedSink("b");
    const d = await createDeliveryApp([a, b]);
    const ids = await postMany(d, 30, "ordered");
    await postMany(d, 3, "test-only", "?oa_track=false");
    const more = await postMany(d, 5, "after-tests");
    const all = [...ids, ...more];
    await waitFor(
      "both sinks to take every event",
      () => a.accepted.length === all.length && b.accepted.length === all.length,
    );
    expect(a.accepted).toEqual(all);
    expect(b.accepted).toEqual(all);
    await d.destroy();
  });

  test("batches by event count and by bytes", async () => {
    const byCount = new ScriptedSink("count");
    const d = await createDeliveryApp([byCount], { paused: true, delivery: { maxEvents: 10 } });
    await postMany(d, 25, "count");
    d.flusher.start();
    await waitFor("delivery", () => byCount.accepted.length === 25);
    expect(byCount.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    await d.destroy();

    const byBytes = new ScriptedSink("bytes");
    const e = await createDeliveryApp([byBytes], {
      paused: true,
      delivery: { maxEvents: 100, maxBytes: 2000 },
    });
    await postMany(e, 12, "bytes");
    e.flusher.start();
    await waitFor("delivery", () => byBytes.accepted.length === 12);
    const sizes = byBytes.batches.map((b) => b.reduce((n, i) => n + i.json.length, 0));
    expect(byBytes.batches.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(2000);
    await e.destroy();
  });

  test("retries a failing sink with backoff while another sink keeps delivering", async () => {
    const broken = new ScriptedSink("broken");
    for (let i = 0; i < 4; i++) broken.script.push({ kind: "retry", cause: "receiver down" });
    const healthy = new ScriptedSink("healthy");
    const d = await createDeliveryApp([broken, healthy]);
    const ids = await postMany(d, 10, "outage");
    await waitFor("the healthy sink", () => healthy.accepted.length === 10);
    await waitFor("the broken sink to recover", () => broken.accepted.length === 10);
    expect(broken.accepted).toEqual(ids);
    expect(broken.batches.length).toBeGreaterThanOrEqual(5); // four refused attempts, then the one that worked
    // The status shows a batch once its bookkeeping is committed, just after the sink took it.
    const statuses = async () =>
      ((await (await d.admin("/sinks")).json()) as { sinks: { name: string; cursor: string }[] })
        .sinks;
    await waitFor(
      "the cursor to be committed",
      async () => (await statuses())[0]!.cursor === ids[9],
    );
    const [status] = (
      (await (await d.admin("/sinks")).json()) as {
        sinks: { name: string; retries: number; cursor: string; delivered: number }[];
      }
    ).sinks;
    expect(status).toMatchObject({ name: "broken", retries: 4, cursor: ids[9], delivered: 10 });
    await d.destroy();
  });

  test("dead-letters what a sink refuses for good, moves on, and replays on request", async () => {
    const sink = new ScriptedSink("hook");
    sink.script.push((batch) => ({
      perEvent: batch.map((_, i) =>
        i === 1 ? { kind: "fatal" as const, cause: "HTTP 400" } : { kind: "ok" as const },
      ),
    }));
    const d = await createDeliveryApp([sink], { paused: true });
    const ids = await postMany(d, 3, "fatal");
    d.flusher.start();
    type Letters = {
      deadLetters: { eventId: string; sink: string; cause: string; attempts: number }[];
    };
    const letters = async () => (await (await d.admin("/dead-letters")).json()) as Letters;
    await waitFor("the dead letter", async () => (await letters()).deadLetters.length === 1);
    expect(sink.accepted).toEqual([ids[0]!, ids[2]!]);
    expect((await letters()).deadLetters).toEqual([
      expect.objectContaining({ eventId: ids[1], sink: "hook", cause: "HTTP 400", attempts: 1 }),
    ]);
    const where = (await (await d.admin(`/events/${ids[1]}`)).json()) as {
      delivery: { sink: string; status: string; cause?: string }[];
    };
    expect(where.delivery).toEqual([{ sink: "hook", status: "dead_lettered", cause: "HTTP 400" }]);

    const replay = await d.admin("/dead-letters/replay?sink=hook", { method: "POST" });
    expect(await replay.json()).toEqual({ requeued: 1 });
    const statusOf = async () =>
      ((await (await d.admin(`/events/${ids[1]}`)).json()) as { delivery: { status: string }[] })
        .delivery[0]!.status;
    await waitFor("the replay", async () => (await statusOf()) === "delivered");
    expect(sink.accepted).toContain(ids[1]!);
    expect((await letters()).deadLetters).toEqual([]);
    expect((await d.admin("/dead-letters/replay?sink=nope", { method: "POST" })).status).toBe(404);
    await d.destroy();
  });

  test("stops at the first event a sink asks to retry, keeping the ones before it", async () => {
    const sink = new ScriptedSink("nats-like");
    sink.script.push((batch) => ({
      perEvent: batch.map((_, i) =>
        i < 2 ? { kind: "ok" as const } : { kind: "retry" as const, cause: "ack timeout" },
      ),
    }));
    const d = await createDeliveryApp([sink], { paused: true });
    const ids = await postMany(d, 4, "partial");
    d.flusher.start();
    await waitFor("delivery", () => new Set(sink.accepted).size === 4);
    expect([...new Set(sink.accepted)]).toEqual(ids);
    expect(sink.batches[1]![0]!.eventId).toBe(ids[2]!); // the resend starts at the refused event
    await d.destroy();
  });

  test("keeps its cursor across a restart, resending nothing already delivered", async () => {
    const first = new ScriptedSink("files");
    const d = await createDeliveryApp([first]);
    const ids = await postMany(d, 5, "restart");
    await waitFor("delivery", () => first.accepted.length === 5);
    await d.stop();
    const second = new ScriptedSink("files");
    const again = await createDeliveryApp([second], { dir: d.dir });
    const more = await postMany(again, 2, "after-restart");
    await waitFor("delivery after restart", () => second.accepted.length === 2);
    expect(second.accepted).toEqual(more);
    expect(ids).not.toContain(second.accepted[0]);
    await again.destroy();
  });

  test("abandons a batch stuck at shutdown, which the next start sends again", async () => {
    const stuck = new ScriptedSink("slow");
    stuck.script.push("hang");
    const d = await createDeliveryApp([stuck]);
    const ids = await postMany(d, 3, "stuck");
    await waitFor("the batch to be in flight", () => stuck.batches.length === 1);
    const started = Date.now();
    await d.stop(200);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(stuck.closed).toBe(1);
    const next = new ScriptedSink("slow");
    const again = await createDeliveryApp([next], { dir: d.dir });
    await waitFor("redelivery", () => next.accepted.length === 3);
    expect(next.accepted).toEqual(ids);
    await again.destroy();
  });
});

describe("retention and the storage cap", () => {
  test("deletes only events every sink has and that are past retention", async () => {
    const fast = new ScriptedSink("fast");
    const stalled = new ScriptedSink("stalled");
    stalled.script.push(
      ...Array.from({ length: 1000 }, () => ({ kind: "retry" as const, cause: "down" })),
    );
    const d = await createDeliveryApp([fast, stalled], { retentionSeconds: 0 });
    await postMany(d, 5, "kept");
    await waitFor("the fast sink", () => fast.accepted.length === 5);
    expect(await d.retention.sweep()).toBe(0); // the stalled sink has none of them
    expect(d.store.events.count()).toBe(5);
    stalled.script.length = 0;
    await waitFor("the stalled sink", () => stalled.accepted.length === 5);
    await waitFor("retention", async () => {
      await d.retention.sweep();
      return d.store.events.count() === 0;
    });
    await d.destroy();
  });

  test("keeps undelivered events past the cap, answers 503 with Retry-After, and accepts again once delivery frees space", async () => {
    const sink = new ScriptedSink("hook");
    let down = true;
    sink.script.push(
      ...Array.from(
        { length: 100000 },
        () => () =>
          down ? { kind: "retry" as const, cause: "down", delayMs: 20 } : { kind: "ok" as const },
      ),
    );
    const d = await createDeliveryApp([sink], { retentionSeconds: 0, storageMaxBytes: 256 * 1024 });
    let accepted = 0;
    let refused: Response | null = null;
    for (let i = 0; i < 5000 && !refused; i++) {
      const res = await d.post(undefined);
      if (res.status === 204) accepted++;
      else refused = res;
      if (i % 50 === 0) d.retention.check();
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get("retry-after")).toBe("5");
    expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe(
      "storage_full",
    );
    expect(d.store.events.count()).toBe(accepted); // nothing stored was dropped

    down = false;
    await waitFor(
      "delivery to drain and retention to free space",
      async () => (await d.post(undefined)).status === 204,
      20000,
      100,
    );
    expect(sink.accepted.length).toBeGreaterThanOrEqual(accepted);
    await d.destroy();
  });

  test("sends a batch again when its bookkeeping cannot be stored: nothing lost, each dead letter kept once", async () => {
    const sink = new ScriptedSink("hook");
    const fatalSecond = (batch: DeliveryItem[]) => ({
      perEvent: batch.map((_, i) =>
        i === 1 ? { kind: "fatal" as const, cause: "HTTP 400" } : { kind: "ok" as const },
      ),
    });
    sink.script.push(fatalSecond, fatalSecond);
    const d = await createDeliveryApp([sink], { paused: true });
    const ids = await postMany(d, 3, "bookkeeping");
    // The injected fault: the first commit of a batch's dead letters and cursor fails.
    const commit = d.store.delivery.commitBatch.bind(d.store.delivery);
    let failures = 0;
    d.store.delivery.commitBatch = async (...args) => {
      if (failures++ === 0) throw new Error("MDB_MAP_FULL (injected)");
      return commit(...args);
    };
    d.flusher.start();
    await waitFor(
      "the batch to be sent again and committed",
      async () =>
        ((await (await d.admin("/sinks")).json()) as { sinks: { cursor: string }[] }).sinks[0]!
          .cursor === ids[2],
    );
    expect(sink.batches.map((b) => b.map((i) => i.eventId))).toEqual([ids, ids]); // sent twice: at least once
    expect(d.store.delivery.deadLetters("hook", 10).map((l) => l.eventId)).toEqual([ids[1]!]);
    const [status] = (
      (await (await d.admin("/sinks")).json()) as {
        sinks: { delivered: number; failed: number; retries: number; lastError: string }[];
      }
    ).sinks;
    expect(status).toMatchObject({ delivered: 2, failed: 1, retries: 1 });
    expect(status!.lastError).toContain("bookkeeping not stored");
    expect(d.logs.filter((l) => l.includes("delivery bookkeeping not stored"))).toHaveLength(1);
    await d.destroy();
  });
});
