/**
 * Complete exports: an account with more than 10,000 leads downloads every one of them as CSV
 * and as NDJSON (streamed, no `limit`), in the order the API pages them, with the same count.
 * With `limit`, a download is that one page.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { LeadPage, LeadSummary } from "../../server/journey/leads.ts";
import { BASE, createTestApp, type TestApp } from "../helpers/test-app.ts";

const ACCOUNT = randomUUID();
const LEADS = 10_500;
let t: TestApp;
const posted: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  // A call tracker's server posting its leads in batches (no Origin, no SDK: server events).
  for (let i = 0; i < LEADS; i += 500) {
    const batch = Array.from({ length: Math.min(500, LEADS - i) }, (_, j) => ({
      action: "submit",
      object: "lead",
      vendor: "CallTrack",
      product: "Calls",
      instance_id: `call-${randomUUID()}`,
      label: `Caller ${i + j} «Zoë» 🚗, "quoted", =1+1`,
    }));
    const res = await t.app.handle(
      new Request(`${BASE}/collect/${ACCOUNT}/1/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(batch),
      }),
    );
    const body = (await res.json()) as { accepted: number; results: { eventId: string }[] };
    expect(body.accepted).toBe(batch.length);
    posted.push(...body.results.map((r) => r.eventId));
  }
}, 120000);
afterAll(() => t.close());

async function apiPages(): Promise<string[]> {
  const ids: string[] = [];
  let after = "";
  for (;;) {
    const res = await t.admin(`/leads?accountId=${ACCOUNT}&limit=10000${after}`);
    const page = (await res.json()) as LeadPage;
    ids.push(...page.leads.map((l) => l.lead.eventId));
    if (page.next === null) return ids;
    after = `&after=${page.next}`;
  }
}

describe("lead exports", () => {
  test("CSV and NDJSON without a limit hold every lead of the range, as the API pages them", async () => {
    const api = await apiPages();
    expect(api.length).toBe(LEADS);
    expect([...api].sort()).toEqual([...posted].sort());

    const csv = await t.admin(`/leads.csv?accountId=${ACCOUNT}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toBe(
      `attachment; filename="leads-${ACCOUNT}.csv"`,
    );
    const text = await csv.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = text.slice(0, -2).split("\r\n");
    expect(rows[0]!.startsWith("event_id,occurred_at,")).toBe(true);
    // Each row starts with its event ID (labels hold quotes and commas, but never a CRLF).
    expect(rows.slice(1).map((r) => r.slice(0, 36))).toEqual(api);

    const ndjson = await (await t.admin(`/leads.ndjson?accountId=${ACCOUNT}`)).text();
    const lines = ndjson
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as LeadSummary);
    expect(lines.map((l) => l.lead.eventId)).toEqual(api);
    expect(lines.every((l) => l.matched === false && l.unmatchedReason === "never_seen")).toBe(
      true,
    );
  }, 120000);

  test("with a limit a download is that page; a limit outside 1 to 10,000 is refused", async () => {
    const page = await (await t.admin(`/leads.ndjson?accountId=${ACCOUNT}&limit=25`)).text();
    expect(page.trimEnd().split("\n").length).toBe(25);
    for (const limit of ["0", "-1", "10001", "abc"]) {
      const res = await t.admin(`/leads.csv?accountId=${ACCOUNT}&limit=${limit}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { details: { path: string }[] } };
      expect(body.error.details.map((d) => d.path)).toEqual(["limit"]);
    }
  });
});
