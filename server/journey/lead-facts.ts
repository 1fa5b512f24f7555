/**
 * What a CRM is told about a lead (events/lead-facts.ts LeadFacts): its customer opened from
 * the vault, its vehicle (or the last one its shopper viewed, marked inferred), the dealer,
 * and its attribution: the first and last touch within the lookback, the pages and vehicles
 * viewed before it, and a link to its journey.
 */
import type { JourneyLimits } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { journeyUrl, type LeadFacts, type TouchFacts } from "../events/lead-facts.ts";
import { hadCustomer, type Vehicle } from "../events/lead-details.ts";
import { textField } from "../events/landing.ts";
import type { Contact } from "../store/contact-vault.ts";
import { findJourney, type Journey, type JourneyReader } from "./journey.ts";
import type { IsLead } from "./lead-rule.ts";
import { touchesOf } from "./leads.ts";
import type { Visit } from "./visits.ts";

export interface LeadFactsDeps {
  reader: JourneyReader;
  journey: JourneyLimits;
  isLead: IsLead;
  lookbackMs: number;
  /** The lead's customer, opened (store/contact-vault.ts). */
  contact: (eventId: string, hadCustomer: boolean) => Contact;
  /** The dealership's name: the registry's account name, if it has one. */
  dealerName: (accountId: string) => string | null;
  /** The admin page's address (…/admin), once known: the journey link is made from it. */
  adminUrl: () => string | null;
}

/** The most vehicles viewed a CRM is told of. */
const MAX_VEHICLES = 20;

function touchFacts(v: Visit): TouchFacts {
  return {
    at: v.start,
    landingPage: v.landingPage,
    referrer: v.referrer,
    source: v.utm.source ?? null,
    medium: v.utm.medium ?? null,
    campaign: v.utm.campaign ?? null,
    clickIds: v.clickIds,
  };
}

/** A vehicle a view event was about, from its properties (or a `vehicle` object among them). */
function viewedVehicle(event: TrackedEvent): Vehicle | null {
  const p = (
    typeof event.properties.vehicle === "object" && event.properties.vehicle !== null
      ? event.properties.vehicle
      : event.properties
  ) as Record<string, unknown>;
  const v: Vehicle = {};
  const year = Number(p.year);
  if (Number.isInteger(year) && year >= 1900 && year <= 2100) v.year = year;
  for (const key of ["make", "model", "trim", "vin"] as const) {
    const s = textField(p[key]);
    if (s) v[key] = s;
  }
  const stock = textField(p.stock) ?? textField(p.stockNumber);
  if (stock) v.stock = stock;
  if (typeof p.price === "number" && p.price >= 0) v.price = p.price;
  if (p.condition === "new" || p.condition === "used") v.status = p.condition;
  return Object.keys(v).length > 0 ? v : null;
}

/** The last vehicle viewed before the lead, among the events still stored. */
function lastViewed(lead: TrackedEvent, journey: Journey): Vehicle | null {
  for (let i = journey.events.length - 1; i >= 0; i--) {
    const e = journey.events[i]!;
    if (e.object !== "vehicle" || e.occurredAt > lead.occurredAt) continue;
    const v = viewedVehicle(e);
    if (v) return v;
  }
  return null;
}

/** LeadFacts of one lead event, its journey walked to the end. */
export function leadFacts(deps: LeadFactsDeps, lead: TrackedEvent): LeadFacts {
  const adminUrl = deps.adminUrl();
  const journey = findJourney(
    deps.reader,
    lead.accountId,
    { eventId: lead.eventId },
    deps.journey,
    deps.isLead,
  );
  const touches = journey ? touchesOf(lead, journey, deps.lookbackMs) : [];
  const vehiclesViewed: string[] = [];
  for (const v of touches)
    for (const id of v.vehicles)
      if (!vehiclesViewed.includes(id) && vehiclesViewed.length < MAX_VEHICLES)
        vehiclesViewed.push(id);
  const contact = deps.contact(lead.eventId, hadCustomer(lead));
  const given = lead.properties.vehicle as Vehicle | undefined;
  const inferred = given ? null : journey && lastViewed(lead, journey);
  return {
    eventId: lead.eventId,
    receivedAt: lead.receivedAt,
    occurredAt: lead.occurredAt,
    accountId: lead.accountId,
    dealer: deps.dealerName(lead.accountId) ?? `Account ${lead.accountId}`,
    vendor: lead.vendor,
    product: lead.product,
    instanceId: lead.instanceId,
    label: lead.label ?? null,
    customer: contact.state === "kept" ? contact.customer : null,
    contact: contact.state,
    vehicle: given ?? inferred ?? null,
    vehicleInferred: !given && inferred !== null,
    attribution: {
      matched: touches.length > 0,
      visits: touches.length,
      pageViews: touches.reduce((n, v) => n + v.pageViews, 0),
      vehiclesViewed,
      first: touches.length > 0 ? touchFacts(touches[0]!) : null,
      last: touches.length > 0 ? touchFacts(touches.at(-1)!) : null,
    },
    journeyUrl: adminUrl === null ? null : journeyUrl(adminUrl, lead.accountId, lead.eventId),
  };
}
