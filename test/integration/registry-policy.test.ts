import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, errorOf, validEvent, type TestApp } from "../helpers/test-app.ts";

const registry = {
  accounts: [{ id: "12", name: "Main Street Motors", type: "dealership" }],
  trackers: [{ id: "34", accountId: "12", name: "Website" }],
  vendors: [{ name: "Vendor A", products: ["Product 1"] }],
};

describe("unknown IDs with policy accept (the default)", () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ registry })));
  afterAll(() => t.close());

  test("flags registered and unregistered IDs on the stored event", async () => {
    const known = await t.collect(validEvent(), { aid: "12", tid: "34" });
    expect(t.store.events.get(known.headers.get("x-event-id")!)!.registry).toEqual({
      account: true,
      tracker: true,
      vendor: true,
    });
    const unknown = await t.collect(validEvent({ vendor: "vendor b" }), { aid: "12", tid: "43" });
    expect(unknown.status).toBe(204);
    expect(t.store.events.get(unknown.headers.get("x-event-id")!)!.registry).toEqual({
      account: true,
      tracker: false,
      vendor: false,
    });
  });
});

describe("unknown IDs with policy reject", () => {
  let t: TestApp;
  beforeAll(
    async () => (t = await createTestApp({ registry: { ...registry, unknownIds: "reject" } })),
  );
  afterAll(() => t.close());

  test("accepts registered IDs and refuses a tracker registered under another account", async () => {
    expect((await t.collect(validEvent(), { aid: "12", tid: "34" })).status).toBe(204);
    const res = await t.collect(validEvent(), { aid: "21", tid: "34" });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("unregistered_id");
    expect(error.details.map((d) => [d.path, d.code])).toEqual([
      ["aid", "unregistered"],
      ["tid", "unregistered"],
    ]);
  });
});
