import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, errorOf, validEvent, type TestApp } from "../helpers/test-app.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";

let t: TestApp;
const ids: string[] = [];
beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 5; i++) {
    const res = await t.collect(validEvent({ instance_id: i % 2 ? "odd" : "even", n: i }), {
      aid: i < 3 ? "7" : "8",
      tid: "3",
    });
    ids.push(res.headers.get("x-event-id")!);
  }
  await t.collect(validEvent(), { aid: "7", tid: "3", query: "?oa_track=false" });
  await t.collect({ action: "view" }, { aid: "7", tid: "3" });
  await t.store.rejects.written();
});
afterAll(() => t.close());

type Page = { events: TrackedEvent[]; next: string | null };

describe("admin API authentication", () => {
  test("refuses requests without a token or with a wrong one, in the error envelope", async () => {
    const none = await t.app.handle(new Request("http://localhost/admin/api/events"));
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("unauthorized");
    for (const token of ["wrong", "test-admin-token-but-longer", "TEST-ADMIN-TOKEN"])
      expect((await t.admin("/events", token)).status).toBe(401);
    const basic = await t.app.handle(
      new Request("http://localhost/admin/api/events", {
        headers: { authorization: "Basic dGVzdA==" },
      }),
    );
    expect(basic.status).toBe(401);
  });
});

describe("GET /admin/api/events", () => {
  test("lists stored events newest first", async () => {
    const page = (await (await t.admin("/events?limit=500")).json()) as Page;
    const mine = page.events.filter((e) => ids.includes(e.eventId)).map((e) => e.eventId);
    expect(mine).toEqual([...ids].reverse());
  });

  test("pages back with before and next", async () => {
    const first = (await (await t.admin("/events?limit=2&test=false")).json()) as Page;
    expect(first.events.map((e) => e.eventId)).toEqual(ids.slice(3).reverse());
    const second = (await (
      await t.admin(`/events?limit=2&test=false&before=${first.next}`)
    ).json()) as Page;
    expect(second.events.map((e) => e.eventId)).toEqual(ids.slice(1, 3).reverse());
    const last = (await (
      await t.admin(`/events?limit=2&test=false&before=${second.next}`)
    ).json()) as Page;
    expect(last.events.map((e) => e.eventId)).toEqual(ids.slice(0, 1));
    expect(last.next).toBeNull();
  });

  test("filters by account, instance ID and test flag", async () => {
    const byAccount = (await (await t.admin("/events?accountId=8")).json()) as Page;
    expect(byAccount.events.map((e) => e.eventId)).toEqual(ids.slice(3).reverse());
    const byInstance = (await (
      await t.admin("/events?accountId=7&instanceId=even&test=false")
    ).json()) as Page;
    expect(byInstance.events.map((e) => e.eventId)).toEqual([ids[2]!, ids[0]!]);
    const tests = (await (await t.admin("/events?test=true")).json()) as Page;
    expect(tests.events).toHaveLength(1);
    expect(tests.events[0]!.test).toBe(true);
  });

  test("answers 400 invalid_request for a bad limit", async () => {
    const res = await t.admin("/events?limit=0");
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("invalid_request");
  });
});

describe("GET /admin/api/events/{eventId}", () => {
  test("returns the stored event", async () => {
    const res = await t.admin(`/events/${ids[1]}`);
    expect(res.status).toBe(200);
    const { event } = (await res.json()) as { event: TrackedEvent };
    expect(event).toMatchObject({
      eventId: ids[1],
      accountId: "7",
      trackerId: "3",
      instanceId: "odd",
      properties: { n: 1 },
    });
  });

  test("answers 404 event_not_found for an unknown ID", async () => {
    const res = await t.admin("/events/01a215e9-a834-700f-842e-a349d6da5893");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("event_not_found");
  });
});

describe("rejects and tracker counters", () => {
  test("lists rejected requests with their code, field paths and a sample", async () => {
    const { rejects } = (await (await t.admin("/rejects?accountId=7")).json()) as {
      rejects: { code: string; details: { path: string }[]; sample: string }[];
    };
    expect(rejects[0]!.code).toBe("invalid_event");
    expect(rejects[0]!.details.map((d) => d.path)).toContain("/object");
    expect(rejects[0]!.sample).toBe('{"action":"view"}');
  });

  test("counts accepted, test and rejected requests per tracker", async () => {
    const { trackers } = (await (await t.admin("/trackers")).json()) as {
      trackers: {
        accountId: string;
        accepted: number;
        test: number;
        rejected: number;
        lastEventAt: string;
      }[];
    };
    expect(trackers.find((c) => c.accountId === "7")).toMatchObject({
      accepted: 3,
      test: 1,
      rejected: 1,
    });
    expect(trackers.find((c) => c.accountId === "8")).toMatchObject({
      accepted: 2,
      test: 0,
      rejected: 0,
    });
  });
});
