/** Events in the stored format, for sink and flusher tests. */
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { uuidv7 } from "../../server/events/ids.ts";
import type { DeliveryItem } from "../../server/sinks/types.ts";

export function makeEvent(overrides: Partial<TrackedEvent> = {}): TrackedEvent {
  return {
    eventId: uuidv7(),
    receivedAt: new Date().toISOString(),
    occurredAt: new Date().toISOString(),
    accountId: "1",
    trackerId: "2",
    action: "view",
    actionType: "standard",
    object: "vehicle",
    vendor: "Vendor A",
    product: "Product 1",
    instanceId: "chat-1",
    properties: { note: "Šárka 😀" },
    context: { ip: null, userAgent: null, origin: null, referer: null, source: "server" },
    test: false,
    registry: { account: false, tracker: false, vendor: false },
    ...overrides,
  };
}

/** `n` delivery items with distinct instance IDs `${prefix}-${i}`. */
export function makeItems(
  n: number,
  prefix = "item",
  overrides: Partial<TrackedEvent> = {},
): DeliveryItem[] {
  return Array.from({ length: n }, (_, i) => {
    const event = makeEvent({ instanceId: `${prefix}-${i}`, ...overrides });
    return { eventId: event.eventId, json: JSON.stringify(event) };
  });
}
