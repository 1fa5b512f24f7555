/**
 * A shopper's events grouped into visits (the Web SDK's visit ID), each with where it came
 * from: the landing page, the referrer, the UTM campaign and the ad click IDs of its first
 * event (Meta's `_fbc`/`_fbp` cookies, which the Web SDK sends as `fbc`/`fbp`, from the first
 * event that has them).
 */
import type { TrackedEvent } from "../events/event.model.ts";
import { deviceOf, visitOf } from "../events/links.ts";

export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
}

/**
 * The ad platforms' click IDs in a landing page's query (Google: gclid, and gbraid/wbraid
 * for iOS app and web campaigns; Meta: fbclid; Microsoft: msclkid; TikTok: ttclid), and Meta's
 * browser cookies. An ad platform credits a lead by these when it is uploaded back to it.
 */
export interface ClickIds {
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  fbclid?: string;
  msclkid?: string;
  ttclid?: string;
  /** Meta's click cookie `_fbc` (fb.1.<time>.<fbclid>) and browser cookie `_fbp`. */
  fbc?: string;
  fbp?: string;
}

/** The click parameters read from a landing page, in the order a touch names its network by. */
export const CLICK_PARAMS = ["gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid"] as const;

/** Which ad network each click parameter belongs to. */
export const CLICK_NETWORKS: Record<(typeof CLICK_PARAMS)[number], string> = {
  gclid: "google",
  gbraid: "google",
  wbraid: "google",
  msclkid: "microsoft",
  fbclid: "meta",
  ttclid: "tiktok",
};

export interface Visit {
  visitId: string;
  deviceId: string | null;
  /** occurredAt of its first and last event. */
  start: string;
  end: string;
  landingPage: string | null;
  referrer: string | null;
  utm: Utm;
  clickIds: ClickIds;
  /**
   * The referrer is the site itself (same host as the landing page): the shopper was already
   * on the site (a visit that timed out, or site data cleared mid-visit), not brought by a
   * campaign. Leads take their touches from the other visits when there are any (leads.ts).
   */
  internal: boolean;
  events: TrackedEvent[];
}

const UTM_KEYS = ["source", "medium", "campaign", "term", "content"] as const;

/** The query parameters of a page URL (an unparseable URL has none). */
function paramsOf(pageUrl: string | null): URLSearchParams | null {
  if (!pageUrl) return null;
  try {
    return new URL(pageUrl).searchParams;
  } catch {
    return null;
  }
}

/** The utm_* parameters of a page URL. */
export function utmOf(pageUrl: string | null): Utm {
  const utm: Utm = {};
  const params = paramsOf(pageUrl);
  for (const key of UTM_KEYS) {
    const value = params?.get(`utm_${key}`);
    if (value) utm[key] = value;
  }
  return utm;
}

/** The click IDs of a page URL. */
function clickIdsOf(pageUrl: string | null): ClickIds {
  const ids: ClickIds = {};
  const params = paramsOf(pageUrl);
  for (const key of CLICK_PARAMS) {
    const value = params?.get(key);
    if (value) ids[key] = value;
  }
  return ids;
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Events oldest first: by when they happened, then by arrival. */
export function byOccurrence(a: TrackedEvent, b: TrackedEvent): number {
  return a.occurredAt < b.occurredAt
    ? -1
    : a.occurredAt > b.occurredAt
      ? 1
      : a.eventId < b.eventId
        ? -1
        : a.eventId > b.eventId
          ? 1
          : 0;
}

/** The visits among `events` (sorted oldest first), oldest first; events without a visit ID belong to none. */
export function groupVisits(events: TrackedEvent[]): Visit[] {
  const visits = new Map<string, Visit>();
  for (const event of events) {
    const visitId = visitOf(event);
    if (visitId === null) continue;
    const visit = visits.get(visitId);
    if (visit) {
      visit.events.push(event);
      visit.end = event.occurredAt;
      cookiesInto(visit.clickIds, event);
      continue;
    }
    const landingPage = text(event.properties.pageUrl);
    const referrer = text(event.properties.referrer);
    visits.set(visitId, {
      visitId,
      deviceId: deviceOf(event) || null,
      start: event.occurredAt,
      end: event.occurredAt,
      landingPage,
      referrer,
      utm: utmOf(landingPage),
      clickIds: cookiesInto(clickIdsOf(landingPage), event),
      internal: sameHost(referrer, landingPage),
      events: [event],
    });
  }
  return [...visits.values()];
}

/** True if both are URLs on the same host. */
function sameHost(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return false;
  }
}

/** Meta's cookies as the Web SDK sends them (`fbc`, `fbp`), kept from the first event that has them. */
function cookiesInto(ids: ClickIds, event: TrackedEvent): ClickIds {
  for (const key of ["fbc", "fbp"] as const) {
    const value = text(event.properties[key]);
    if (value !== null && ids[key] === undefined) ids[key] = value;
  }
  return ids;
}
