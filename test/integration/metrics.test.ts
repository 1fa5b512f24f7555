/**
 * /metrics as a dashboard reads it: events counted in one unit across received, stored,
 * duplicate, debugged and rejected; requests counted apart; and the exposition accepted by
 * Prometheus's own checker.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requireCommand } from "../helpers/system-package.ts";
import { BASE, createTestApp, type TestApp, validEvent } from "../helpers/test-app.ts";

let t: TestApp;
let text: string;

/** The value of one sample, by its exact name and labels. */
function sample(name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

function sum(prefix: string): number {
  return text
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

beforeAll(async () => {
  t = await createTestApp();
  const aid = "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"; // account IDs are often UUIDs
  const eventId = crypto.randomUUID();
  const statuses = [
    await t.collect(validEvent({ eventId }), { aid }), // stored
    await t.collect(validEvent({ eventId }), { aid }), // duplicate
    await t.collect(validEvent(), { aid, query: "?oa_debug=true" }), // debugged
    await t.collect({ action: "view" }, { aid }), // rejected: invalid_event
    await t.collect("{", { aid }), // rejected: invalid_json
    await t.collect(validEvent(), { aid: "0x1" }), // rejected: invalid_id
  ].map((r) => r.status);
  expect(statuses).toEqual([204, 204, 200, 400, 400, 400]);
  const batch = await t.app.handle(
    new Request(`${BASE}/collect/${aid}/1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // two stored, one duplicate of the first single event, one invalid
      body: JSON.stringify([validEvent(), validEvent(), validEvent({ eventId }), { action: 7 }]),
    }),
  );
  expect(await batch.json()).toMatchObject({ accepted: 2, duplicates: 1, rejected: 1 });
  text = await (await t.app.handle(new Request(`${BASE}/metrics`))).text();
});
afterAll(() => t.close());

describe("metrics", () => {
  test("count events in one unit: received = stored + duplicate + debugged + rejected", () => {
    expect(sample('trackd_collect_requests_total{route="event"}')).toBe(6);
    expect(sample('trackd_collect_requests_total{route="events"}')).toBe(1);
    expect(sample("trackd_events_received_total")).toBe(10);
    expect(sample("trackd_events_stored_total")).toBe(3);
    expect(sample("trackd_events_duplicate_total")).toBe(2);
    expect(sample("trackd_events_debugged_total")).toBe(1);
    expect(sample('trackd_events_rejected_total{code="invalid_event"}')).toBe(2);
    expect(sample('trackd_events_rejected_total{code="invalid_json"}')).toBe(1);
    expect(sample('trackd_events_rejected_total{code="invalid_id"}')).toBe(1);
    expect(sample('trackd_events_rejected_total{code="rate_limited"}')).toBe(0);
    expect(
      sample("trackd_events_stored_total") +
        sample("trackd_events_duplicate_total") +
        sample("trackd_events_debugged_total") +
        sum("trackd_events_rejected_total{"),
    ).toBe(sample("trackd_events_received_total"));
  });

  test("pass promtool check metrics", () => {
    const promtool = requireCommand("promtool", "prometheus");
    const run = Bun.spawnSync([promtool, "check", "metrics"], { stdin: Buffer.from(text) });
    const report = run.stdout.toString() + run.stderr.toString();
    expect(report).toBe("");
    expect(run.exitCode).toBe(0);
  });
});
