/**
 * Consent carried: a `consent` field checked and kept in the event's context, Global Privacy
 * Control (`Sec-GPC: 1`) as ads denied, and shoppers who denied ads, on the lead or on any
 * visit of their journey, left out of the ad platforms' conversion files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  adVisitThenLead,
  createTestApp,
  errorOf,
  type TestApp,
  validEvent,
} from "../helpers/test-app.ts";

const ACCOUNT = "1001";
let t: TestApp;
let now = Date.parse("2026-11-10T15:00:00Z");

/** A page view from a Google ad (with `headers`, `consent`), then a chat lead on its instance. */
async function adThenLead(gclid: string, headers: Record<string, string>, consent?: unknown) {
  now += 60_000;
  const { view } = await adVisitThenLead(t, ACCOUNT, gclid, {
    headers,
    ...(consent !== undefined && { fields: { consent } }),
  });
  return view;
}

beforeAll(async () => (t = await createTestApp({}, { now: () => now })));
afterAll(() => t.close());

describe("consent", () => {
  test("a consent field is checked, and kept in the context", async () => {
    const bad = await t.collect(
      validEvent({ consent: { analytics: "yes", ads: "denied", marketing: "granted" } }),
    );
    expect(bad.status).toBe(400);
    const paths = (await errorOf(bad)).details.map((d) => [d.path, d.code]);
    expect(paths).toEqual([
      ["/consent/analytics", "invalid_value"],
      ["/consent/marketing", "unknown_field"],
    ]);
    expect((await errorOf(await t.collect(validEvent({ consent: "denied" })))).code).toBe(
      "invalid_event",
    );
    const ok = await t.collect(validEvent({ consent: { analytics: "granted", ads: "denied" } }));
    const event = t.store.events.get(ok.headers.get("x-event-id")!)!;
    expect(event.context.consent).toEqual({ analytics: "granted", ads: "denied" });
    expect(event.properties.consent).toBeUndefined();
  });

  test("Sec-GPC: 1 is ads denied, whatever the consent field said", async () => {
    const event = await adThenLead("GPC1", { "sec-gpc": "1" }, { ads: "granted" });
    expect(event.context.consent).toEqual({ ads: "denied", gpc: true });
  });

  test("only shoppers who did not deny ads are in the conversion files", async () => {
    await adThenLead("ALLOWED1", {});
    await adThenLead("DENIED1", {}, { analytics: "granted", ads: "denied" });
    const file = await (
      await t.admin(
        `/conversions/google-ads.csv?accountId=${ACCOUNT}&from=2026-11-01&to=2026-12-01`,
      )
    ).text();
    expect(file).toContain("ALLOWED1");
    expect(file).not.toContain("DENIED1");
    expect(file).not.toContain("GPC1");
  });
});
