/** How an ADF document reaches a CRM: by e-mail (smtp-transport.ts) or HTTP POST (http-transport.ts). */
import type { Attempt, SinkHealth } from "../types.ts";

/** What the subject template and the message can name: never the customer. */
export interface LeadLabels {
  eventId: string;
  dealer: string;
  vendor: string;
  product: string;
}

export interface LeadTransport {
  /** Sends one document; the outcome, and the receiver's answer in a line. Must not throw. */
  deliver(xml: string, lead: LeadLabels): Promise<{ outcome: Attempt; answer: string }>;
  health(): Promise<SinkHealth>;
  close(): Promise<void>;
}
