/**
 * What an erasure request reaches: everything linked to the identifiers given (an e-mail or
 * phone as its hash, a user ID, a device ID, an instance ID), in one account or every one. Each
 * identifier is followed as a journey is (journey.ts, within its bounds: a shared identifier is
 * not followed, so strangers are never erased with the shopper), and what the journey holds is
 * what goes: its stored events, the long memory's traces of its visits and remembered events,
 * and every device and identifier it reached (to suppress).
 *
 * WORK IN PROGRESS (branch erasure-wip): the planner only; deletion, suppression, the erasure
 * record to sinks, the audit and the Privacy page are not written yet.
 */
import type { JourneyLimits } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import type { LinkKind } from "../events/links.ts";
import { findJourney, type JourneyReader } from "./journey.ts";
import type { IsLead } from "./lead-rule.ts";

export interface Identifier {
  kind: LinkKind;
  value: string;
}

export interface ErasurePlan {
  /** Stored events to delete, by account. */
  events: TrackedEvent[];
  /** The long memory's traces to forget: "v" + visit ID or "e" + event ID, by account. */
  traces: { accountId: string; id: string }[];
  /** Every identifier reached (the ones asked for among them), to suppress. */
  identifiers: (Identifier & { accountId: string })[];
  /** True if a journey's bound stopped the search: the request reached more than was followed. */
  truncated: boolean;
}

/**
 * The plan for erasing `identifiers` in `accountIds`. Reads only: a dry run answers its counts;
 * the erasure deletes what it lists.
 */
export function planErasure(
  reader: JourneyReader,
  accountIds: string[],
  identifiers: Identifier[],
  limits: JourneyLimits,
  isLead: IsLead,
): ErasurePlan {
  const events = new Map<string, TrackedEvent>();
  const traces = new Map<string, { accountId: string; id: string }>();
  const reached = new Map<string, Identifier & { accountId: string }>();
  let truncated = false;
  const note = (accountId: string, kind: LinkKind, value: string) =>
    reached.set(`${accountId}\u0000${kind}\u0000${value}`, { accountId, kind, value });
  for (const accountId of accountIds)
    for (const { kind, value } of identifiers) {
      note(accountId, kind, value);
      // The identifier's own traces in the long memory, whether or not an event still carries it.
      for (const entry of reader.memory.entries(
        accountId,
        kind,
        value,
        limits.maxEventsPerIdentifier,
      ))
        traces.set(`${accountId}\u0000${entry.id}`, { accountId, id: entry.id });
      const first = reader.links.entries(accountId, kind, value, { limit: 1 }).next();
      if (first.done) continue;
      const journey = findJourney(
        reader,
        accountId,
        { eventId: first.value.eventId },
        limits,
        isLead,
      );
      if (!journey) continue;
      truncated ||= journey.truncated;
      for (const event of journey.events) events.set(event.eventId, event);
      for (const visit of journey.visits)
        if (visit.summarized > 0)
          traces.set(`${accountId}\u0000v${visit.visitId}`, { accountId, id: `v${visit.visitId}` });
      for (const remembered of journey.remembered)
        traces.set(`${accountId}\u0000e${remembered.eventId}`, {
          accountId,
          id: `e${remembered.eventId}`,
        });
      for (const step of journey.why) if (step.followed) note(accountId, step.kind, step.value);
      for (const device of journey.deviceIds) note(accountId, "device", device);
    }
  return {
    events: [...events.values()],
    traces: [...traces.values()],
    identifiers: [...reached.values()],
    truncated,
  };
}
