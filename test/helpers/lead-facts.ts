/** LeadFacts as the ADF sink gets them, for tests that build documents without a journey. */
import type { LeadFacts } from "../../server/events/lead-facts.ts";

/** A lead of account 1001 with no visits, a customer with an e-mail, and `overrides`. */
export function leadFactsFixture(overrides: Partial<LeadFacts> = {}): LeadFacts {
  return {
    eventId: "01930000-0000-7000-8000-000000000001",
    receivedAt: "2026-12-01T10:00:00.000Z",
    occurredAt: "2026-12-01T10:00:00.000Z",
    accountId: "1001",
    dealer: "Dealer",
    vendor: "Vendor",
    product: "Product",
    instanceId: "instance",
    label: null,
    customer: { email: "a@b.example" },
    contact: "kept",
    vehicle: null,
    vehicleInferred: false,
    attribution: {
      matched: false,
      visits: 0,
      pageViews: 0,
      vehiclesViewed: [],
      first: null,
      last: null,
    },
    journeyUrl: null,
    ...overrides,
  };
}
