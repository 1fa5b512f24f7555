/**
 * Matching at scale: a store holding `shoppers` planned shoppers (test/helpers/shoppers.ts) in
 * one account, topped up with other accounts' events to `total`, then the journey of random
 * leads (find plus JSON, as the API answers), a leads export of the last month as CSV, and
 * the migration from store format 1 at start.
 */
import { Value } from "@sinclair/typebox/value";
import {
  JourneySchema,
  LeadsSchema,
  type JourneyLimits,
  type LeadRule,
} from "../../server/config/schema.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { uuidv7 } from "../../server/events/ids.ts";
import { findJourney, type Journey } from "../../server/journey/journey.ts";
import { leadRule } from "../../server/journey/lead-rule.ts";
import { listLeads, summarizeLead } from "../../server/journey/leads.ts";
import { creditLead, sumCredits } from "../../server/journey/attribution.ts";
import { LeadTouches } from "../../server/journey/lead-touches.ts";
import { ScanBudget } from "../../server/store/scan-budget.ts";
import { leadsCsv } from "../../server/http/lead-export.ts";
import { open } from "lmdb";
import { join } from "node:path";
import { openStore, type Store } from "../../server/store/open-store.ts";
import { timeKey } from "../../server/store/event-store.ts";
import { makeEvent } from "../helpers/events.ts";
import { planShoppers } from "../helpers/shoppers.ts";

/** The account the planned shoppers and their leads belong to. */
export const ACCOUNT = "2001";

export interface JourneyFigures {
  events: number;
  shoppers: number;
  leads: number;
  buildSeconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  exportLeadsPerSecond: number;
  exportSeconds: number;
  /** Opening the same store marked as format 1: the link index rebuilt from every stored event. */
  migrationSeconds: number;
  /** The older half of the events deleted by retention into the long memory of visits: */
  memory: {
    deleted: number;
    visits: number;
    traces: number;
    /** JSON bytes per trace, and LMDB bytes (pages of the memory database) per trace. */
    jsonBytesPerTrace: number;
    storedBytesPerTrace: number;
    /** Journeys of the leads still stored, reaching into the memory. */
    p50Ms: number;
    p99Ms: number;
    /** The month's attribution for the account (last non-direct) with each lead's touches kept. */
    attributionSeconds: number;
    /** The same with none kept: every lead's journey walked. */
    attributionColdSeconds: number;
    attributionLeads: number;
  };
}

/** An event as the collect route stores it, from a planned body. */
function stored(body: Record<string, unknown>, source: "browser" | "server"): TrackedEvent {
  const {
    action,
    object,
    vendor,
    product,
    label,
    instanceId,
    instance_id,
    eventId: _client,
    timestamp,
    ...properties
  } = body as Record<string, string | number | undefined>;
  const receivedAt = new Date().toISOString();
  return makeEvent({
    eventId: uuidv7(),
    receivedAt,
    occurredAt: typeof timestamp === "number" ? new Date(timestamp).toISOString() : receivedAt,
    accountId: ACCOUNT,
    trackerId: "1",
    action: String(action),
    object: String(object),
    vendor: String(vendor),
    product: String(product),
    instanceId: String(instanceId ?? instance_id),
    ...(label !== undefined && { label: String(label) }),
    properties,
    context: { ip: "203.0.113.7", userAgent: "bench", origin: null, referer: null, source },
  });
}

/**
 * Stores the planned shoppers of account ACCOUNT (their visits and leads, plus leads no visit
 * explains), then events of other accounts up to `total`; returns the leads' event IDs.
 */
export async function storeShoppers(
  store: Store,
  total: number,
  shoppers: number,
): Promise<{ leadIds: string[]; orphanLeads: number; events: number }> {
  const plan = planShoppers(shoppers, 7, Date.now() - 20 * 86_400_000);
  let n = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const append = async (event: TrackedEvent) => {
    pending = store.events.append(event);
    if (++n % 2000 === 0) await pending;
  };
  const leadIds: string[] = [];
  for (const s of plan.shoppers) {
    for (const v of s.visits) for (const body of v.events) await append(stored(body, "browser"));
    for (const l of s.leads) {
      const lead = stored(l.body, "server");
      leadIds.push(lead.eventId);
      await append(lead);
    }
  }
  for (const l of plan.orphanLeads) await append(stored(l.body, "server"));
  while (n < total)
    await append(
      makeEvent({
        accountId: String(3000 + (n % 50)),
        instanceId: `other-${n}`,
        properties: { deviceId: `dev-${n % 100000}` },
      }),
    );
  await pending;
  return { leadIds, orphanLeads: plan.orphanLeads.length, events: n };
}

export async function journeyBench(
  dataDir: string,
  total: number,
  shoppers: number,
  samples = 2000,
): Promise<JourneyFigures> {
  const store = openStore({ dataDir, durability: "relaxed", rejectLogSize: 10 });
  const built = performance.now();
  const { leadIds, orphanLeads, events } = await storeShoppers(store, total, shoppers);
  const buildSeconds = (performance.now() - built) / 1000;

  const limits = Value.Default(JourneySchema, {}) as JourneyLimits;
  const isLead = leadRule(Value.Default(LeadsSchema, {}) as LeadRule);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const eventId = leadIds[Math.floor(Math.random() * leadIds.length)]!;
    const t0 = performance.now();
    JSON.stringify(findJourney(store.events, ACCOUNT, { eventId }, limits, isLead));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);

  const t0 = performance.now();
  const page = await monthOfLeads(store, limits, isLead, (lead, journey) =>
    summarizeLead(lead, journey, 90 * 86_400_000),
  );
  const csv = leadsCsv(page.leads);
  const exportSeconds = (performance.now() - t0) / 1000;
  if (csv.length === 0 || page.leads.length !== leadIds.length + orphanLeads)
    throw new Error(
      `export found ${page.leads.length} leads, expected ${leadIds.length + orphanLeads}`,
    );
  const memory = await memoryBench(store, events, leadIds, limits, isLead, samples);
  await store.close();

  // The same store as 0.1.0 would have left it, for the migration at start (the old index is dropped unread).
  const root = open({ path: join(dataDir, "trackd.mdb"), maxDbs: 16, mapSize: 256 * 1024 ** 3 });
  root.openDB({ name: "meta" }).putSync("schema", 1);
  await root.close();
  const m0 = performance.now();
  await openStore({ dataDir, durability: "relaxed", rejectLogSize: 10 }).close();
  const migrationSeconds = (performance.now() - m0) / 1000;
  return {
    events,
    shoppers,
    leads: page.leads.length,
    buildSeconds,
    p50Ms: times[Math.floor(times.length / 2)]!,
    p99Ms: times[Math.floor(times.length * 0.99)]!,
    maxMs: times.at(-1)!,
    exportLeadsPerSecond: page.leads.length / exportSeconds,
    exportSeconds,
    migrationSeconds,
    memory,
  };
}

/** The last 30 days' leads of ACCOUNT, each summed up by `summarize`, as the API reads them. */
function monthOfLeads<T>(
  store: Store,
  limits: JourneyLimits,
  isLead: ReturnType<typeof leadRule>,
  summarize: (lead: TrackedEvent, journey: Journey) => T,
  known?: (lead: TrackedEvent) => T | undefined,
) {
  const now = Date.now();
  return listLeads(
    store.events,
    {
      accountId: ACCOUNT,
      fromKey: timeKey(now - 30 * 86_400_000),
      toKey: timeKey(now + 60_000),
      limit: 1_000_000,
    },
    limits,
    isLead,
    new ScanBudget(3_600_000),
    summarize,
    known,
  );
}

/** p50 and p99 of `samples` timings of `run`. */
function percentiles(samples: number, run: () => void): { p50Ms: number; p99Ms: number } {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    p50Ms: times[Math.floor(times.length / 2)]!,
    p99Ms: times[Math.floor(times.length * 0.99)]!,
  };
}

/**
 * Retention deletes the older half of the store into the long memory, as it would after
 * `retentionSeconds`: its size per visit, then journeys and the month's attribution that read
 * it beside the events still stored.
 */
async function memoryBench(
  store: Store,
  events: number,
  leadIds: string[],
  limits: JourneyLimits,
  isLead: ReturnType<typeof leadRule>,
  samples: number,
): Promise<JourneyFigures["memory"]> {
  let deleted = 0;
  while (deleted < events / 2) deleted += await store.events.deleteUpTo("~", 10_000, "");
  const size = store.events.memory.size();
  const stats = store.events.memory.database.getStats() as {
    pageSize: number;
    treeBranchPageCount: number;
    treeLeafPageCount: number;
    overflowPages: number;
  };
  const pages = stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
  const live = leadIds.filter((id) => store.events.get(id) !== undefined);
  const lookbackMs = 90 * 86_400_000;
  const { p50Ms, p99Ms } = percentiles(Math.min(samples, live.length), () => {
    const eventId = live[Math.floor(Math.random() * live.length)]!;
    JSON.stringify(findJourney(store.events, ACCOUNT, { eventId }, limits, isLead));
  });
  // Cold: every lead's journey walked (and its touches kept), as on a store upgraded from
  // 0.6; then with the touches kept, as the service has them once it has run a minute.
  const touches = new LeadTouches({
    reader: store.events,
    journey: limits,
    isLead,
    lookbackMs,
    db: store.events.leadTouches,
    accountRules: () => "[]",
  });
  const c0 = performance.now();
  const cold = await monthOfLeads(store, limits, isLead, (lead, journey) =>
    creditLead(lead, touches.keep(lead, journey), "last_non_direct"),
  );
  JSON.stringify(sumCredits(cold.leads, "received"));
  const attributionColdSeconds = (performance.now() - c0) / 1000;
  await store.events.leadTouches.committed;
  const t0 = performance.now();
  const credited = await monthOfLeads(
    store,
    limits,
    isLead,
    () => {
      throw new Error("a lead's touches were not kept");
    },
    (lead) => {
      const channels = touches.known(lead);
      return channels && creditLead(lead, channels, "last_non_direct");
    },
  );
  JSON.stringify(sumCredits(credited.leads, "received"));
  return {
    deleted,
    visits: size.visits,
    traces: size.traces,
    jsonBytesPerTrace: size.jsonBytes / Math.max(1, size.traces),
    storedBytesPerTrace: (pages * stats.pageSize) / Math.max(1, size.traces),
    p50Ms,
    p99Ms,
    attributionSeconds: (performance.now() - t0) / 1000,
    attributionColdSeconds,
    attributionLeads: credited.leads.length,
  };
}
