/** A link to the shopper journey behind an event. */
import { query } from "../api.ts";

export function JourneyLink({
  accountId,
  eventId,
  label = "Shopper journey",
}: {
  accountId: string;
  eventId: string;
  label?: string;
}) {
  return <a href={`#/journey${query({ accountId, eventId })}`}>{label}</a>;
}
