/**
 * Erasure (work in progress, branch erasure-wip): what a request for one shopper's e-mail
 * reaches. A shopper on two devices, with a chat and a lead, and a stranger who shares only a
 * placeholder e-mail: the plan holds every event of the shopper and nothing of the stranger.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { journeyReader } from "../../server/http/leads-query.ts";
import { planErasure } from "../../server/journey/erasure.ts";
import { leadRule } from "../../server/journey/lead-rule.ts";
import { Registry } from "../../server/registry/registry.ts";
import {
  adVisitThenLead,
  createTestApp,
  testConfig,
  type TestApp,
  validEvent,
} from "../helpers/test-app.ts";

const ACCOUNT = "1001";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const EMAIL = sha256("pat@example.com");
let t: TestApp;
const shopper: string[] = [];
const stranger: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  // Pat: an ad visit and a chat lead on device 1, then device 2, both with Pat's e-mail.
  const first = await adVisitThenLead(t, ACCOUNT, "PAT1", { fields: { emailSha256: EMAIL } });
  shopper.push(first.view.eventId, first.lead.eventId);
  const second = await adVisitThenLead(t, ACCOUNT, "PAT2", { fields: { emailSha256: EMAIL } });
  shopper.push(second.view.eventId, second.lead.eventId);
  // Someone else, never linked to Pat.
  const other = await adVisitThenLead(t, ACCOUNT, "SAM1", {
    fields: { emailSha256: sha256("sam@example.com") },
  });
  stranger.push(other.view.eventId, other.lead.eventId);
  const unrelated = await t.collect(validEvent({ instance_id: crypto.randomUUID() }), {
    aid: ACCOUNT,
  });
  stranger.push(unrelated.headers.get("x-event-id")!);
});
afterAll(() => t.close());

describe("erasure planning", () => {
  test("an e-mail reaches both of the shopper's devices, their chat and lead, and nobody else", () => {
    const config = testConfig();
    const plan = planErasure(
      journeyReader(t.store.events, new Registry(null, config.registry)),
      [ACCOUNT],
      [{ kind: "email", value: EMAIL }],
      config.journey,
      leadRule(config.leads),
    );
    const ids = plan.events.map((e) => e.eventId).sort();
    expect(ids).toEqual([...shopper].sort());
    for (const id of stranger) expect(ids).not.toContain(id);
    const kinds = new Set(plan.identifiers.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(["device", "email", "instance"]);
  });

  test("erasing the plan deletes the shopper's events and links, and nothing of the stranger", async () => {
    const config = testConfig();
    const reader = journeyReader(t.store.events, new Registry(null, config.registry));
    const plan = planErasure(
      reader,
      [ACCOUNT],
      [{ kind: "email", value: EMAIL }],
      config.journey,
      leadRule(config.leads),
    );
    expect(await t.store.events.erase(plan.events, plan.traces)).toEqual({ events: 4, traces: 0 });
    for (const id of shopper) expect(t.store.events.get(id)).toBeUndefined();
    for (const id of stranger) expect(t.store.events.get(id)).toBeDefined();
    expect([...reader.links.entries(ACCOUNT, "email", EMAIL)]).toEqual([]);
    const again = planErasure(
      reader,
      [ACCOUNT],
      [{ kind: "email", value: EMAIL }],
      config.journey,
      leadRule(config.leads),
    );
    expect(again.events).toEqual([]);
    const journey = await t.admin(`/journey?accountId=${ACCOUNT}&eventId=${shopper[1]}`);
    expect(journey.status).toBe(404);
  });
});
