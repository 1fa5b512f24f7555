/**
 * What a lead's delivery to a CRM says (the ADF sink's input), and the record of each such
 * delivery. The journey work fills LeadFacts in (journey/lead-facts.ts); a sink reads them
 * without knowing how a shopper was found, and the store keeps the records.
 */
import type { ClickIds } from "./landing.ts";
import type { Customer, Vehicle } from "./lead-details.ts";

/** Where a visit came from, as a CRM is told. */
export interface TouchFacts {
  at: string;
  landingPage: string | null;
  referrer: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  clickIds: ClickIds;
}

export interface LeadFacts {
  eventId: string;
  receivedAt: string;
  occurredAt: string;
  accountId: string;
  /** The dealership: the registry's account name, else "Account <id>". */
  dealer: string;
  vendor: string;
  product: string;
  instanceId: string;
  label: string | null;
  /** The customer, opened; null if the lead has none or it was erased (contact says which). */
  customer: Customer | null;
  contact: "kept" | "erased" | "none";
  /** The lead's vehicle, else the last one the shopper viewed before it (inferred), else null. */
  vehicle: Vehicle | null;
  vehicleInferred: boolean;
  attribution: {
    matched: boolean;
    visits: number;
    pageViews: number;
    /** Vehicles viewed before the lead (VIN, stock number, ID or label). */
    vehiclesViewed: string[];
    first: TouchFacts | null;
    last: TouchFacts | null;
  };
  /** The lead's journey on the admin page, when trackd knows its own address. */
  journeyUrl: string | null;
}

/**
 * One lead's delivery to one CRM sink. `sending` is written before the attempt: found at a
 * start, the process died mid-send, so the lead is sent again marked as a resend.
 */
export interface LeadDelivery {
  sink: string;
  state: "sending" | "delivered" | "failing" | "refused";
  at: string;
  attempts: number;
  /** The receiver's answer (an SMTP reply, an HTTP status), or why it was not reached. */
  answer: string | null;
  /** Sent again after an attempt whose outcome is unknown (status="resend" in the ADF). */
  resend: boolean;
}

/** The lead deliveries' records, as the store keeps them. */
export interface LeadDeliveryLog {
  get(eventId: string, sink: string): LeadDelivery | undefined;
  /** Resolves once the record is committed. */
  put(eventId: string, record: LeadDelivery): Promise<void>;
  /** Every sink's record of one lead. */
  of(eventId: string): LeadDelivery[];
}

/** A lead's journey on the admin page whose address (…/admin) is `adminUrl`. */
export const journeyUrl = (adminUrl: string, accountId: string, eventId: string) =>
  `${adminUrl.replace(/\/+$/, "")}#/journey?accountId=${encodeURIComponent(accountId)}&eventId=${eventId}`;
