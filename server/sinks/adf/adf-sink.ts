/**
 * Leads to a dealer CRM as ADF/XML, one message per lead, through the same cursor, retries
 * and dead letters as every sink. What is not for it (other accounts, vendors not opted in,
 * events that are not leads, test events) it passes over. A lead younger than delaySeconds
 * holds the sink until it is old enough, so the vendor's enrichments arrive first.
 *
 * Once: each lead's record (events/lead-facts.ts LeadDelivery) is written `sending` before
 * the attempt and `delivered` after, both committed. A lead already delivered is passed over
 * (a batch sent again after a crash, a replay); one found `sending` died mid-attempt, its
 * outcome unknown, and goes again as status="resend" with the same ID and Message-ID, so the
 * CRM can tell it is the same lead. That window (between the receiver's acceptance and the
 * record's commit, milliseconds) is the only way a lead reaches a CRM twice.
 */
import type { TrackedEvent } from "../../events/event.model.ts";
import { journeyUrl, type LeadDelivery } from "../../events/lead-facts.ts";
import {
  causeOf,
  type DeliveryItem,
  OK,
  type SendOutcome,
  type SendResult,
  type Sink,
  type SinkContext,
  type SinkHealth,
} from "../types.ts";
import type { AdfSinkConfig } from "./adf-config.ts";
import { adfDocument } from "./adf-document.ts";
import type { LeadTransport } from "./transport.ts";

/** How a server event's context reads in its JSON (event.model.ts: context.source). */
const SERVER_SOURCE = '"source":"server"';

export class AdfSink implements Sink {
  readonly kind = "adf";
  readonly name: string;
  private readonly vendors: { vendor: string; product: string | null }[] | null;
  private closed = false;

  constructor(
    private readonly config: Pick<
      AdfSinkConfig,
      "name" | "accountId" | "vendors" | "delaySeconds" | "dealer" | "adminUrl"
    >,
    private readonly context: SinkContext,
    private readonly transport: LeadTransport,
    private readonly dealerEmail: string | null,
  ) {
    this.name = config.name;
    this.vendors =
      config.vendors?.map((v) => ({
        vendor: v.vendor.toLowerCase(),
        product: v.product?.toLowerCase() ?? null,
      })) ?? null;
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    if (this.closed) return { kind: "retry", cause: "sink closed" };
    const perEvent: SendOutcome[] = [];
    for (const item of batch) {
      const outcome = await this.one(item);
      perEvent.push(outcome);
      if (outcome.kind === "retry" || outcome.kind === "hold") break; // the rest wait their turn
    }
    return { perEvent };
  }

  health(): Promise<SinkHealth> {
    return this.transport.health();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.transport.close();
  }

  /** True if the event is a lead this sink sends. */
  private wants(event: TrackedEvent): boolean {
    if (event.test) return false;
    if (this.config.accountId !== undefined && event.accountId !== this.config.accountId)
      return false;
    if (!this.context.isLead(event)) return false;
    if (this.vendors === null) return true;
    const vendor = event.vendor.toLowerCase();
    const product = event.product.toLowerCase();
    return this.vendors.some(
      (v) => v.vendor === vendor && (v.product === null || v.product === product),
    );
  }

  private async one(item: DeliveryItem): Promise<SendOutcome> {
    // Leads are server events: the browser's, most of the traffic, are passed over unparsed.
    if (!item.json.includes(SERVER_SOURCE)) return OK;
    const event = JSON.parse(item.json) as TrackedEvent;
    if (!this.wants(event)) return OK;
    const wait =
      Date.parse(event.receivedAt) + this.config.delaySeconds * 1000 - this.context.now();
    if (wait > 0) return { kind: "hold", delayMs: wait };
    const prior = this.context.deliveries.get(event.eventId, this.name);
    if (prior?.state === "delivered") return OK;
    // Died mid-attempt before (or a resend that has not got through yet): a resend.
    const resend = prior?.state === "sending" || (prior?.state === "failing" && prior.resend);
    const record = (state: LeadDelivery["state"], answer: string | null): LeadDelivery => ({
      sink: this.name,
      state,
      at: new Date(this.context.now()).toISOString(),
      attempts: (prior?.attempts ?? 0) + 1,
      answer,
      resend,
    });
    let xml: string;
    let facts: ReturnType<SinkContext["leadFacts"]>;
    try {
      facts = this.context.leadFacts(event);
      if (this.config.adminUrl)
        facts.journeyUrl = journeyUrl(this.config.adminUrl, event.accountId, event.eventId);
      xml = adfDocument(facts, {
        dealerEmail: this.dealerEmail,
        dealerPhone: this.config.dealer.phone ?? null,
        resend,
      });
      await this.context.deliveries.put(event.eventId, record("sending", prior?.answer ?? null));
    } catch (err) {
      return { kind: "retry", cause: `lead not prepared: ${causeOf(err)}` };
    }
    const { outcome, answer } = await this.transport.deliver(xml, {
      eventId: event.eventId,
      dealer: facts.dealer,
      vendor: event.vendor,
      product: event.product,
    });
    const state =
      outcome.kind === "ok" ? "delivered" : outcome.kind === "fatal" ? "refused" : "failing";
    try {
      await this.context.deliveries.put(event.eventId, record(state, answer));
    } catch (err) {
      // Delivered but not recorded: the cursor's commit will likely fail too, and the lead
      // then goes again as a resend (its record still says sending).
      return outcome.kind === "ok"
        ? OK
        : { kind: "retry", cause: `record not stored: ${causeOf(err)}` };
    }
    return outcome;
  }
}
