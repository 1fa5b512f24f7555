/**
 * The sink contract. A sink takes a batch of events and says what happened; it never sleeps,
 * retries or drops anything itself: delivery decides (Vector's and PostHog's split).
 */

import type { DeliveryItem, TrackedEvent } from "../events/event.model.ts";
import type { LeadDeliveryLog, LeadFacts } from "../events/lead-facts.ts";
import type { Customer } from "../events/lead-details.ts";

export type { DeliveryItem };

export type SendOutcome =
  | { kind: "ok" }
  /** Try again later (delivery backs off; `delayMs` overrides, e.g. from Retry-After). */
  | { kind: "retry"; cause: string; delayMs?: number }
  /** This will never succeed: dead-letter it. */
  | { kind: "fatal"; cause: string }
  /** Not yet, by design (the ADF sink's delaySeconds): ask again after `delayMs`; not a failure. */
  | { kind: "hold"; delayMs: number };

/** What one attempt at a receiver came to (every outcome but hold). */
export type Attempt = Exclude<SendOutcome, { kind: "hold" }>;

/** One outcome for the whole batch, or one per event in batch order. */
export type SendResult = SendOutcome | { perEvent: SendOutcome[] };

export interface SinkHealth {
  ok: boolean;
  detail: string;
}

export interface Sink {
  readonly name: string;
  readonly kind: string;
  /** Delivers a batch (in order). Must not throw: failures are outcomes. */
  send(batch: DeliveryItem[]): Promise<SendResult>;
  /** Does what normal operation does, without delivering an event. */
  health(): Promise<SinkHealth>;
  /** Releases resources; safe to call twice. */
  close(): Promise<void>;
}

export const OK: Attempt = { kind: "ok" };

/**
 * What a sink may need beside its configuration: leads and what a CRM is told of them, the
 * record of each lead's deliveries, and the admin page's address (known once listening).
 * start.ts builds it; only the ADF sink reads it.
 */
export interface SinkContext {
  isLead: (event: TrackedEvent) => boolean;
  leadFacts: (lead: TrackedEvent) => LeadFacts;
  deliveries: LeadDeliveryLog;
  /** A lead's customer, opened (null: none, or erased): for sinks with includeCustomer. */
  customer: (eventId: string) => Customer | null;
  now: () => number;
}

/** Describes an unknown thrown value in one line. */
export function causeOf(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
