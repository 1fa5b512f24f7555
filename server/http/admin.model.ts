/** Query schemas and response types of the admin API; the page (ui/api.ts) imports the types, so tsc checks both sides. */
import { Type as t } from "@sinclair/typebox";
import type { TrackedEvent } from "../events/event.model.ts";
import type { SinkReport } from "../delivery/sink-loops.ts";
import type { Suggestion } from "../registry/suggest.ts";
import type { RejectRecord } from "../store/reject-log.ts";
import type { TrackerCounters } from "../store/tracker-stats.ts";
import type { EventFilter } from "../store/event-store.ts";
import type { LeadDelivery } from "../events/lead-facts.ts";
import type { Customer } from "../events/lead-details.ts";
import type { LeadSummary } from "../journey/leads.ts";

/** Where a lead went, in one word (journey-admin.ts crmState). */
export type CrmState = "delivered" | "refused" | "failing" | "none";

/** A lead as the leads list and its detail show it: with where it was delivered. */
export type LeadRow = LeadSummary & { crm: CrmState };

/** GET /admin/api/leads/{eventId}: the lead, its customer opened, and each delivery to a CRM. */
export interface LeadDetail {
  lead: LeadRow;
  contact: "kept" | "erased" | "none";
  customer: Customer | null;
  deliveries: LeadDelivery[];
}

const Limit = t.Integer({ minimum: 1, maximum: 500, default: 50 });

const filterFields = {
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  instanceId: t.Optional(t.String({ maxLength: 400 })), // the longest an instance ID can be
  action: t.Optional(t.String({ maxLength: 1024 })),
  object: t.Optional(t.String({ maxLength: 1024 })),
  vendor: t.Optional(t.String({ maxLength: 1024 })),
  product: t.Optional(t.String({ maxLength: 1024 })),
  test: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
};

export const EventListQuery = t.Object({
  limit: t.Optional(Limit),
  before: t.Optional(t.String({ maxLength: 64 })),
  ...filterFields,
});
export const EventStreamQuery = t.Object(filterFields);
/** The query of a route that takes no parameters: any parameter is refused. */
export const NoQuery = t.Object({});
/** A handler's context with the route's path parameters (strings, or null for a malformed escape). */
export interface WithParams {
  request: Request;
  params: Record<string, string>;
}
export const InstanceQuery = t.Object({ instanceId: t.String({ minLength: 1, maxLength: 400 }) });

/** The store filter from list or stream query parameters (IDs lowercased like path IDs; empty means any). */
export function toFilter(q: { [K in keyof typeof filterFields]?: string }): EventFilter {
  const v = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);
  return {
    accountId: v(q.accountId)?.toLowerCase(),
    trackerId: v(q.trackerId)?.toLowerCase(),
    instanceId: v(q.instanceId),
    action: v(q.action),
    object: v(q.object),
    vendor: v(q.vendor),
    product: v(q.product),
    test: q.test === undefined ? undefined : q.test === "true",
  };
}

export const RejectListQuery = t.Object({
  limit: t.Optional(Limit),
  before: t.Optional(t.String({ maxLength: 64 })),
  accountId: t.Optional(t.String({ maxLength: 64 })),
  trackerId: t.Optional(t.String({ maxLength: 64 })),
  code: t.Optional(t.String({ maxLength: 64 })),
});

/** GET /admin/api/check */
export interface CheckResult {
  aid: { raw: string; valid: boolean; id: string | null };
  tid: { raw: string; valid: boolean; id: string | null };
  account: { registered: boolean; name?: string; type?: string };
  tracker: {
    registered: boolean;
    name?: string;
    allowedOrigins?: string[];
    registeredUnder?: string[];
  };
  activity: {
    lastHour: number;
    lastDay: number;
    accepted: number;
    test: number;
    rejected: number;
    lastEventAt: string | null;
    lastRejectAt: string | null;
  } | null;
  latestEvents: TrackedEvent[];
  latestRejects: RejectRecord[];
  suggestions: Suggestion[];
}

/** One of GET /admin/api/unregistered's pairs. */
export interface UnregisteredPair extends TrackerCounters {
  lastHour: number;
  lastDay: number;
  accountRegistered: boolean;
  suggestions: Suggestion[];
}

/** GET /admin/api/overview */
export interface Overview {
  perMinute: { at: string; count: number }[];
  trackers: (TrackerCounters & {
    lastHour: number;
    lastDay: number;
    accountName: string | null;
    trackerName: string | null;
  })[];
  storage: { usedBytes: number; fileBytes: number; capBytes: number; storedEvents: number };
  sinks: SinkReport[];
  deadLetters: number;
}
