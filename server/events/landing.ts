/**
 * Where a visit came from, read off its first event: the UTM campaign and the ad platforms'
 * click IDs in the landing page's query, Meta's cookies (which the Web SDK sends as `fbc` and
 * `fbp`), and whether the referrer is the site itself. The journey's visits and the long
 * memory of visits (store/visit-memory.ts) both read them here.
 */
import type { TrackedEvent } from "./event.model.ts";

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

/** Where a visit came from (its first event's page). */
export interface Landing {
  landingPage: string | null;
  referrer: string | null;
  utm: Utm;
  clickIds: ClickIds;
  /**
   * The referrer is the site itself (same host as the landing page): the shopper was already
   * on the site (a visit that timed out, or site data cleared mid-visit), not brought by a
   * campaign.
   */
  internal: boolean;
}

const UTM_KEYS = ["source", "medium", "campaign", "term", "content"] as const;

export const textField = (v: unknown): string | null =>
  typeof v === "string" && v !== "" ? v : null;

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

/** True if both are URLs on the same host. */
function sameHost(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return false;
  }
}

/** Where a visit whose first event is `event` came from. */
export function landingOf(event: TrackedEvent): Landing {
  const landingPage = textField(event.properties.pageUrl);
  const referrer = textField(event.properties.referrer);
  return {
    landingPage,
    referrer,
    utm: utmOf(landingPage),
    clickIds: cookiesInto(clickIdsOf(landingPage), event),
    internal: sameHost(referrer, landingPage),
  };
}

/** Meta's cookies as the Web SDK sends them (`fbc`, `fbp`), kept from the first event that has them. */
export function cookiesInto(ids: ClickIds, event: TrackedEvent): ClickIds {
  for (const key of ["fbc", "fbp"] as const) {
    const value = textField(event.properties[key]);
    if (value !== null && ids[key] === undefined) ids[key] = value;
  }
  return ids;
}

/** A page view: what a visit's page count counts. */
export const isPageView = (event: TrackedEvent): boolean =>
  event.action === "view" && event.object === "page";

/** The vehicle an event is about, if it is about one: its VIN, stock number, ID or label. */
export function vehicleOf(event: TrackedEvent): string | null {
  if (event.object !== "vehicle") return null;
  const p = event.properties;
  return (
    textField(p.vin) ??
    textField(p.stockNumber) ??
    textField(p.vehicleId) ??
    textField(event.label) ??
    null
  );
}
