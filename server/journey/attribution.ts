/**
 * Leads by campaign: each lead's credit shared among its touches (leads.ts touchesOf: the
 * visits that began before it, within the lookback) by one of the usual models, and summed per
 * channel (source, medium, campaign, click network) over an account's leads.
 *
 * - first: all to the first touch; last: all to the last.
 * - last_non_direct: all to the last touch that is not direct (a direct visit does not take
 *   the credit from a campaign, as in Google Analytics); to the last if every one is direct.
 * - linear: shared equally.
 * - position: 40% to the first, 40% to the last, 20% shared by those between (two touches:
 *   half each; one: all of it).
 *
 * An unmatched lead (no touch) is credited to the channel "(unmatched)".
 */
import type { TrackedEvent } from "../events/event.model.ts";
import { CLICK_NETWORKS, CLICK_PARAMS } from "../events/landing.ts";
import type { Journey } from "./journey.ts";
import { touchesOf } from "./leads.ts";
import type { Visit } from "./visits.ts";

export const MODELS = ["first", "last", "last_non_direct", "linear", "position"] as const;
export type Model = (typeof MODELS)[number];

/** Where a touch came from, as attribution groups it. */
export interface Channel {
  source: string;
  medium: string;
  campaign: string;
  /** The ad network of its click ID (google, meta, microsoft, tiktok), or "". */
  network: string;
}

/** One lead's credit: which channels, how much each (the shares add up to 1). */
export interface LeadCredit {
  eventId: string;
  occurredAt: string;
  receivedAt: string;
  credits: { channel: Channel; share: number }[];
}

export const UNMATCHED: Channel = {
  source: "(unmatched)",
  medium: "(none)",
  campaign: "(none)",
  network: "",
};

/** The host of a URL without "www." or a mobile "m." (and Facebook's link shims l. and lm.), or null. */
function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname.replace(/^(?:www|m|l|lm)\./, "") || null;
  } catch {
    return null;
  }
}

/** The channel of a visit: its UTM, else its click ID's network as paid search or social, else its referrer's host. */
export function channelOf(visit: Visit): Channel {
  const param = CLICK_PARAMS.find((p) => visit.clickIds[p] !== undefined);
  const network = param ? CLICK_NETWORKS[param] : "";
  const referrer = hostOf(visit.referrer);
  return {
    source: visit.utm.source ?? (network || referrer || "(direct)"),
    medium:
      visit.utm.medium ??
      (network
        ? network === "google" || network === "microsoft"
          ? "cpc"
          : "paid_social"
        : referrer
          ? "referral"
          : "(none)"),
    campaign: visit.utm.campaign ?? "(none)",
    network,
  };
}

const isDirect = (c: Channel) => c.source === "(direct)";

/** The shares of `n` touches under `model`, first touch first. */
function shares(model: Model, channels: Channel[]): number[] {
  const n = channels.length;
  const out = new Array<number>(n).fill(0);
  switch (model) {
    case "first":
      out[0] = 1;
      break;
    case "last":
      out[n - 1] = 1;
      break;
    case "last_non_direct": {
      let i = n - 1;
      while (i > 0 && isDirect(channels[i]!)) i--;
      out[isDirect(channels[i]!) ? n - 1 : i] = 1;
      break;
    }
    case "linear":
      out.fill(1 / n);
      break;
    case "position":
      if (n === 1) out[0] = 1;
      else if (n === 2) out.fill(0.5);
      else {
        out.fill(0.2 / (n - 2));
        out[0] = 0.4;
        out[n - 1] = 0.4;
      }
      break;
  }
  return out;
}

/** The channels of a lead's touches (touchesOf), first touch first: what its credit is shared among. */
export function touchChannels(lead: TrackedEvent, journey: Journey, lookbackMs: number): Channel[] {
  return touchesOf(lead, journey, lookbackMs).map(channelOf);
}

/** One lead's credit under `model`, from the channels of its touches. */
export function creditLead(lead: TrackedEvent, channels: Channel[], model: Model): LeadCredit {
  const base = { eventId: lead.eventId, occurredAt: lead.occurredAt, receivedAt: lead.receivedAt };
  if (channels.length === 0) return { ...base, credits: [{ channel: UNMATCHED, share: 1 }] };
  const byKey = new Map<string, { channel: Channel; share: number }>();
  const split = shares(model, channels);
  channels.forEach((channel, i) => {
    if (split[i] === 0) return;
    const key = channelKey(channel);
    const got = byKey.get(key);
    if (got) got.share += split[i]!;
    else byKey.set(key, { channel, share: split[i]! });
  });
  return { ...base, credits: [...byKey.values()] };
}

export const channelKey = (c: Channel) =>
  JSON.stringify([c.source, c.medium, c.campaign, c.network]);

export interface AttributionRow extends Channel {
  /** Leads credited (fractions under the shared models). */
  leads: number;
}

export interface AttributionReport {
  leads: number;
  matched: number;
  rows: AttributionRow[];
  /** Per UTC day (of when the lead happened or arrived, as the range is by): credit per source. */
  days: { day: string; bySource: Record<string, number> }[];
}

/** Sums lead credits into rows (most credit first) and days. */
export function sumCredits(credits: LeadCredit[], by: "received" | "occurred"): AttributionReport {
  const rows = new Map<string, AttributionRow>();
  const days = new Map<string, Record<string, number>>();
  let matched = 0;
  for (const lead of credits) {
    if (lead.credits[0]?.channel !== UNMATCHED) matched++;
    const day = (by === "occurred" ? lead.occurredAt : lead.receivedAt).slice(0, 10);
    const bySource = days.get(day) ?? {};
    days.set(day, bySource);
    for (const { channel, share } of lead.credits) {
      const key = channelKey(channel);
      const row = rows.get(key) ?? { ...channel, leads: 0 };
      row.leads += share;
      rows.set(key, row);
      bySource[channel.source] = (bySource[channel.source] ?? 0) + share;
    }
  }
  return {
    leads: credits.length,
    matched,
    rows: [...rows.values()].sort(
      (a, b) => b.leads - a.leads || channelKey(a).localeCompare(channelKey(b)),
    ),
    days: [...days.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([day, bySource]) => ({ day, bySource })),
  };
}

/** GET /admin/api/attribution's answer. */
export interface AttributionAnswer extends AttributionReport {
  accountId: string;
  from: string;
  to: string;
  by: "received" | "occurred";
  model: Model;
  lookbackDays: number;
}
