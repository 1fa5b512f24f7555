/**
 * A sink that is configured to receive leads' customers (`includeCustomer = true`): each
 * event whose `properties.customer` is the sealed marker goes to it with the customer opened
 * in its place (`properties.customer` then holds the fields, as the vendor sent them,
 * normalized). Every other sink gets the marker and the hashes only. A customer erased
 * (pii.retentionDays) stays a marker.
 */
import type { TrackedEvent } from "../events/event.model.ts";
import type { Customer } from "../events/lead-details.ts";
import type { DeliveryItem, Sink } from "./types.ts";

/** Cheap pre-check on the JSON text, so most events are passed through unparsed. */
const SEALED = '"customer":{"sealed":true';

export function withCustomer(sink: Sink, open: (eventId: string) => Customer | null): Sink {
  const reveal = (item: DeliveryItem): DeliveryItem => {
    if (!item.json.includes(SEALED)) return item;
    const event = JSON.parse(item.json) as TrackedEvent;
    const customer = open(event.eventId);
    if (!customer) return item;
    event.properties.customer = customer;
    return { eventId: item.eventId, json: JSON.stringify(event) };
  };
  return {
    name: sink.name,
    kind: sink.kind,
    send: (batch) => sink.send(batch.map(reveal)),
    health: () => sink.health(),
    close: () => sink.close(),
  };
}
