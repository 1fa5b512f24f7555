/**
 * A shopper's consent, carried with their events (context.consent): what they said about
 * analytics and ads (the Web SDK's `trackd('consent', ...)`, or any client's `consent` field),
 * and Global Privacy Control (`Sec-GPC: 1`), which counts as ads denied. Ads denied keeps the
 * shopper's leads out of the ad platforms' conversion files (journey/conversions.ts); analytics
 * denied is the SDK's to honour (it keeps no device ID in the browser).
 */
import type { ErrorDetail } from "../errors.ts";
import type { TrackedEvent } from "./event.model.ts";

export type ConsentState = "granted" | "denied";
export interface Consent {
  analytics?: ConsentState;
  ads?: ConsentState;
  /** The browser sent Sec-GPC: 1. */
  gpc?: true;
}

const PURPOSES = ["analytics", "ads"] as const;

/** The body's `consent`: an object of `analytics` and/or `ads`, each "granted" or "denied". */
export function parseConsent(value: unknown, problems: ErrorDetail[]): Consent | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push({
      path: "/consent",
      code: "invalid_type",
      message: 'consent must be an object such as {"analytics": "granted", "ads": "denied"}.',
    });
    return undefined;
  }
  const consent: Consent = {};
  for (const [key, state] of Object.entries(value)) {
    if (!(PURPOSES as readonly string[]).includes(key)) {
      problems.push({
        path: `/consent/${key}`,
        code: "unknown_field",
        message: `consent takes analytics and ads; "${key.slice(0, 40)}" is not one of them.`,
      });
      continue;
    }
    if (state === "granted" || state === "denied") consent[key as "analytics" | "ads"] = state;
    else
      problems.push({
        path: `/consent/${key}`,
        code: "invalid_value",
        message: `consent.${key} must be "granted" or "denied".`,
      });
  }
  return consent;
}

/** The consent an event is stored with: the body's, and GPC as ads denied (it wins). */
export function consentOf(sent: Consent | undefined, gpc: boolean): Consent | undefined {
  if (!gpc) return sent && Object.keys(sent).length > 0 ? sent : undefined;
  return { ...sent, ads: "denied", gpc: true };
}

/** True if the event's shopper denied ads (or sent GPC). */
export const adsDenied = (event: TrackedEvent): boolean => event.context.consent?.ads === "denied";
