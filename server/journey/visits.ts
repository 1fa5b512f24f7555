/**
 * A shopper's events grouped into visits (the Web SDK's visit ID), each with where it came
 * from (events/landing.ts): the landing page, the referrer, the UTM campaign and the ad click
 * IDs of its first event. A visit whose first events retention deleted starts from its trace
 * in the long memory (store/visit-memory.ts), and says how many of its events only that
 * summary counts.
 */
import type { TrackedEvent } from "../events/event.model.ts";
import { cookiesInto, isPageView, landingOf, vehicleOf, type Landing } from "../events/landing.ts";
import { deviceOf, visitOf } from "../events/links.ts";
import type { Trace } from "../store/visit-memory.ts";

export type { ClickIds, Utm } from "../events/landing.ts";

export interface Visit extends Landing {
  visitId: string;
  deviceId: string | null;
  /** occurredAt of its first and last event. */
  start: string;
  end: string;
  pageViews: number;
  /** Vehicles viewed (VIN, stock number, ID or label), first ones first. */
  vehicles: string[];
  /**
   * Events of this visit that retention deleted: only the long memory's summary (where it
   * came from, when, pages, vehicles) is left of them. 0: every event is in `events`.
   */
  summarized: number;
  /** Its events still stored. */
  events: TrackedEvent[];
}

/** Events oldest first: by when they happened, then by arrival. */
export function byOccurrence(a: TrackedEvent, b: TrackedEvent): number {
  return a.occurredAt < b.occurredAt
    ? -1
    : a.occurredAt > b.occurredAt
      ? 1
      : a.eventId < b.eventId
        ? -1
        : a.eventId > b.eventId
          ? 1
          : 0;
}

/**
 * The visits among `events` (sorted oldest first) and the visits' traces remembered of
 * deleted events, oldest first; events without a visit ID belong to none.
 */
export function groupVisits(events: TrackedEvent[], traces: Trace[] = []): Visit[] {
  const visits = new Map<string, Visit>();
  for (const t of traces) {
    if (t.visitId === null || t.landing === null) continue;
    visits.set(t.visitId, {
      visitId: t.visitId,
      deviceId: t.deviceId,
      start: t.start,
      end: t.end,
      ...t.landing,
      pageViews: t.pageViews,
      vehicles: [...t.vehicles],
      summarized: t.events,
      events: [],
    });
  }
  for (const event of events) {
    const visitId = visitOf(event);
    if (visitId === null) continue;
    let visit = visits.get(visitId);
    if (!visit) {
      visit = {
        visitId,
        deviceId: deviceOf(event) || null,
        start: event.occurredAt,
        end: event.occurredAt,
        ...landingOf(event),
        pageViews: 0,
        vehicles: [],
        summarized: 0,
        events: [],
      };
      visits.set(visitId, visit);
    }
    visit.events.push(event);
    if (event.occurredAt < visit.start) visit.start = event.occurredAt;
    if (event.occurredAt > visit.end) visit.end = event.occurredAt;
    if (isPageView(event)) visit.pageViews++;
    const vehicle = vehicleOf(event);
    if (vehicle !== null && !visit.vehicles.includes(vehicle)) visit.vehicles.push(vehicle);
    cookiesInto(visit.clickIds, event);
  }
  return [...visits.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}
