/**
 * A lead as the conversions an ad platform imports: the lead itself, and each later stage of it
 * (an event with the lead's instance ID and a `stage`, such as appointment or sold, sent by the
 * vendor or the CRM), each with what the platforms match on. Google: the most recent Google
 * click before the lead (gclid, else gbraid, else wbraid) within the lookback, and the
 * contact's hashes as Google normalizes (events/lead-details.ts). Meta: the click cookie
 * (`fbc`, or one made from an `fbclid` as Meta documents: fb.1.<ms>.<fbclid>), the browser
 * cookie `fbp`, and the contact's hashes as trackd's own links (Meta's normalization).
 */
import type { TrackedEvent } from "../events/event.model.ts";
import { adsDenied } from "../events/consent.ts";
import { textField } from "../events/landing.ts";
import type { CustomerMarker } from "../events/lead-details.ts";
import type { Journey } from "./journey.ts";
import { fromProvenServer } from "./lead-rule.ts";
import { touchesOf } from "./leads.ts";

export interface Conversion {
  /** The lead's ID, or the stage event's: each conversion's own (Google's Order ID). */
  eventId: string;
  leadId: string;
  /** null for the lead itself; else the stage it reached. */
  stage: string | null;
  occurredAt: string;
  value: number | null;
  currency: string | null;
  google: {
    gclid?: string;
    gbraid?: string;
    wbraid?: string;
    emailSha256?: string;
    phoneSha256?: string;
  };
  meta: { fbc?: string; fbp?: string; emailSha256?: string; phoneSha256?: string; leadId?: string };
}

const hex = (v: unknown) =>
  typeof v === "string" && /^[0-9a-f]{64}$/i.test(v) ? v.toLowerCase() : undefined;

/** What the platforms can match a lead's conversions on. */
function matchKeys(lead: TrackedEvent, journey: Journey, lookbackMs: number) {
  const touches = touchesOf(lead, journey, lookbackMs).reverse(); // most recent first
  const google: Conversion["google"] = {};
  const clicked = touches.find((t) => t.clickIds.gclid || t.clickIds.gbraid || t.clickIds.wbraid);
  if (clicked?.clickIds.gclid) google.gclid = clicked.clickIds.gclid;
  else if (clicked?.clickIds.gbraid) google.gbraid = clicked.clickIds.gbraid;
  else if (clicked?.clickIds.wbraid) google.wbraid = clicked.clickIds.wbraid;
  const marker = lead.properties.customer as Partial<CustomerMarker> | undefined;
  const email = hex(lead.properties.emailSha256);
  const phone = hex(lead.properties.phoneSha256);
  // A vendor's own email hash is Google's too but for a Gmail address with dots or a +tag; a
  // phone hash without the "+" never is: Google's comes only from a customer trackd hashed.
  const googleEmail = hex(marker?.googleEmailSha256) ?? email;
  const googlePhone = hex(marker?.googlePhoneSha256);
  if (googleEmail) google.emailSha256 = googleEmail;
  if (googlePhone) google.phoneSha256 = googlePhone;

  const meta: Conversion["meta"] = {};
  const withFbc = touches.find((t) => t.clickIds.fbc || t.clickIds.fbclid);
  if (withFbc?.clickIds.fbc) meta.fbc = withFbc.clickIds.fbc;
  else if (withFbc?.clickIds.fbclid)
    meta.fbc = `fb.1.${Date.parse(withFbc.start)}.${withFbc.clickIds.fbclid}`;
  const fbp = touches.find((t) => t.clickIds.fbp)?.clickIds.fbp;
  if (fbp) meta.fbp = fbp;
  if (email) meta.emailSha256 = email;
  if (phone) meta.phoneSha256 = phone;
  const metaLead = textField(lead.properties.metaLeadId);
  if (metaLead) meta.leadId = metaLead;
  return { google, meta };
}

/** A later stage of a lead (appointment, sold): a server event with a `stage` (not flagged unverified). */
export const isStage = (e: TrackedEvent): boolean =>
  fromProvenServer(e) && textField(e.properties.stage) !== null;

const numberOr = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * The conversions of one lead that happened in [from, to) (ISO times): the lead, and its
 * stages among the journey's stored server events with its instance ID.
 */
export function conversionsOf(
  lead: TrackedEvent,
  journey: Journey,
  lookbackMs: number,
  range: { from: string; to: string },
): Conversion[] {
  // A shopper who denied ads (or sent GPC), on the lead or any event of the journey, is in no file.
  if (adsDenied(lead) || journey.events.some(adsDenied)) return [];
  const within = (e: TrackedEvent) => e.occurredAt >= range.from && e.occurredAt < range.to;
  const stages = journey.events.filter(
    (e) =>
      e.eventId !== lead.eventId && e.instanceId === lead.instanceId && isStage(e) && within(e),
  );
  if (!within(lead) && stages.length === 0) return [];
  const keys = matchKeys(lead, journey, lookbackMs);
  const of = (e: TrackedEvent, stage: string | null): Conversion => ({
    eventId: e.eventId,
    leadId: lead.eventId,
    stage,
    occurredAt: e.occurredAt,
    value: numberOr(e.properties.value),
    currency: textField(e.properties.currency),
    ...keys,
  });
  return [
    ...(within(lead) ? [of(lead, null)] : []),
    ...stages.map((e) => of(e, textField(e.properties.stage))),
  ];
}

/** True if Google can match the conversion: a click ID, or hashed contact data. */
export const googleCanMatch = (c: Conversion) =>
  Boolean(
    c.google.gclid ||
      c.google.gbraid ||
      c.google.wbraid ||
      c.google.emailSha256 ||
      c.google.phoneSha256,
  );

/** True if Meta can match the conversion: its lead ID, a click or browser cookie, or hashed contact data. */
export const metaCanMatch = (c: Conversion) =>
  Boolean(c.meta.leadId || c.meta.fbc || c.meta.fbp || c.meta.emailSha256 || c.meta.phoneSha256);
