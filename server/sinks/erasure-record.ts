/**
 * Erasure records (journey/erasure.ts): trackd's own event telling every sink which events it
 * erased on a shopper's request. Webhooks and NATS pass it on like any event; a sink that
 * keeps events itself (the file sink) deletes them when it gets one.
 */
import type { DeliveryItem } from "./types.ts";

/** The event IDs an erasure record names, or null if `item` is not one. */
export function erasedBy(item: DeliveryItem): string[] | null {
  // A cheap test first: only trackd's own records have this source.
  if (!item.json.includes('"source":"trackd"')) return null;
  const event = JSON.parse(item.json) as {
    action?: string;
    context?: { source?: string };
    properties?: { erasure?: { eventIds?: unknown } };
  };
  const ids = event.properties?.erasure?.eventIds;
  return event.context?.source === "trackd" && event.action === "erase" && Array.isArray(ids)
    ? ids.filter((id): id is string => typeof id === "string")
    : null;
}
