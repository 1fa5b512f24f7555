/**
 * What is kept of a client's address: by default its /24 or /48; per tracker the whole
 * address, a keyed hash that changes each day, or nothing; in the stored event and the reject
 * log alike. Rate limits still tell apart two addresses of one network.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STORE_FILE } from "../../server/store/open-store.ts";
import { BASE, createTestApp, type TestApp, validEvent } from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const DAY = 86_400_000;
let t: TestApp;
let now = Date.parse("2026-12-01T12:00:00Z");

/** Posts from `ip` to tracker `tid`; the stored event's context.ip. */
async function ipKept(ip: string, tid = "1"): Promise<string | null> {
  const res = await t.app.handle(
    new Request(`${BASE}/collect/${ACCOUNT}/${tid}/event`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-test-peer": ip },
      body: JSON.stringify(validEvent({ instance_id: crypto.randomUUID() })),
    }),
  );
  expect(res.status).toBe(204);
  return t.store.events.get(res.headers.get("x-event-id")!)!.context.ip;
}

const setIp = (tid: string, ip: string) =>
  t.adminPut(`/registry/trackers/${ACCOUNT}/${tid}`, { name: `tracker ${tid}`, ip });

beforeAll(async () => {
  // In process a request has no socket: its peer is what the test says it is.
  t = await createTestApp(
    { rateLimits: { perIp: { ratePerSecond: 0.001, burst: 2 } } },
    { now: () => now, peerAddress: (request) => request.headers.get("x-test-peer") },
  );
  await t.adminPut(`/registry/accounts/${ACCOUNT}`, { name: "Main Street" });
  for (const tid of ["1", "2", "3", "4"]) await setIp(tid, "default");
});
afterAll(() => t.close());

describe("IP policy", () => {
  test("by default only the /24 or /48 is kept", async () => {
    expect(await ipKept("203.0.113.77")).toBe("203.0.113.0");
    expect(await ipKept("2001:db8:85a3:8d3:1319:8a2e:370:7348")).toBe("2001:db8:85a3::");
    expect(await ipKept("::ffff:198.51.100.9")).toBe("198.51.100.0");
  });

  test("rate limits still count whole addresses: two of one /24 are limited apart", async () => {
    expect(await ipKept("192.0.2.10")).toBe("192.0.2.0");
    expect(await ipKept("192.0.2.10")).toBe("192.0.2.0");
    expect(await ipKept("192.0.2.11")).toBe("192.0.2.0");
    const again = await t.app.handle(
      new Request(`${BASE}/collect/${ACCOUNT}/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-test-peer": "192.0.2.10" },
        body: JSON.stringify(validEvent()),
      }),
    );
    expect(again.status).toBe(429);
    await t.store.rejects.written();
    const rejected = t.store.rejects.list({ limit: 1 })[0]!;
    expect(rejected.ip).toBe("192.0.2.0");
  });

  test("per tracker: keep, drop, and a keyed hash that is stable for a day and then changes", async () => {
    expect((await setIp("2", "keep")).status).toBe(200);
    expect((await setIp("3", "drop")).status).toBe(200);
    expect((await setIp("4", "hash")).status).toBe(200);
    expect(await ipKept("198.51.100.23", "2")).toBe("198.51.100.23");
    expect(await ipKept("198.51.100.24", "3")).toBeNull();
    const first = await ipKept("198.51.100.25", "4");
    expect(first).toMatch(/^h:[A-Za-z0-9_-]{22}$/);
    expect(await ipKept("198.51.100.25", "4")).toBe(first);
    expect(await ipKept("198.51.100.26", "4")).not.toBe(first);
    now += DAY;
    expect(await ipKept("198.51.100.25", "4")).not.toBe(first);
    // Renaming the tracker keeps its policy; "default" gives it back to pii.ip.
    await t.adminPut(`/registry/trackers/${ACCOUNT}/2`, { name: "renamed" });
    expect(await ipKept("198.51.100.27", "2")).toBe("198.51.100.27");
    await setIp("2", "default");
    expect(await ipKept("198.51.100.28", "2")).toBe("198.51.100.0");
  });

  test("no truncated or hashed address is in the store file whole", async () => {
    const file = readFileSync(join(t.dir, STORE_FILE)).toString("latin1");
    for (const whole of ["203.0.113.77", "192.0.2.10", "198.51.100.25", "198.51.100.24"])
      expect(file).not.toContain(whole);
  });
});
