/** The admin API as the page uses it: same-origin fetches carrying the session cookie. */
import type { TrackedEvent } from "../server/events/event.model.ts";
import type { LeadDelivery } from "../server/events/lead-facts.ts";
import type { RejectRecord } from "../server/store/reject-log.ts";
import type { SinkReport, EventDelivery } from "../server/delivery/sink-loops.ts";
import type { DeadLetter } from "../server/store/delivery-store.ts";
import type { Account, Tracker, Vendor } from "../server/registry/registry.model.ts";
import type { TrackerCounters } from "../server/store/tracker-stats.ts";
import type { TrackerSecretInfo } from "../server/store/tracker-secrets.ts";
import type { Suggestion } from "../server/registry/suggest.ts";
import type { Journey, LinkStep } from "../server/journey/journey.ts";
import type { LeadPage, LeadSummary, Touch } from "../server/journey/leads.ts";
import type { Visit } from "../server/journey/visits.ts";
import type { AttributionAnswer } from "../server/journey/attribution.ts";
import type { RememberedEvent } from "../server/store/visit-memory.ts";

import type {
  CheckResult,
  CrmState,
  LeadDetail,
  LeadRow,
  Overview,
  UnregisteredPair,
} from "../server/http/admin.model.ts";

export type {
  Journey,
  LinkStep,
  LeadPage,
  LeadSummary,
  Touch,
  Visit,
  RememberedEvent,
  AttributionAnswer,
  CheckResult,
  CrmState,
  LeadDelivery,
  LeadDetail,
  LeadRow,
  Overview,
  UnregisteredPair,
};
export type {
  TrackedEvent,
  RejectRecord,
  SinkReport,
  EventDelivery,
  DeadLetter,
  Account,
  Tracker,
  Vendor,
  TrackerCounters,
  Suggestion,
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the admin API; throws ApiError with the server's code and message on failure. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`/admin/api${path}`, {
    ...init,
    credentials: "same-origin",
    headers: init.body
      ? { "content-type": "application/json", ...(init.headers ?? {}) }
      : init.headers,
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as {
    error?: { code: string; message: string; details?: { path: string; message: string }[] };
  } | null;
  if (!res.ok) {
    // The failing fields say what to fix: "allowedOrigins/0: must be an origin ...".
    const details = (body?.error?.details ?? []).map((d) =>
      d.path ? `${d.path}: ${d.message}` : d.message,
    );
    throw new ApiError(
      res.status,
      body?.error?.code ?? "error",
      [body?.error?.message ?? `HTTP ${res.status}`, ...details].join(" "),
    );
  }
  return body as T;
}

/** Query string from the set fields only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export interface Registry {
  accounts: Account[];
  /** Each tracker with its secrets for signed server events (never the secrets themselves). */
  trackers: (Tracker & { secrets: TrackerSecretInfo[] })[];
  vendors: Vendor[];
}
