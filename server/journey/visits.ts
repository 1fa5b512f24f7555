/**
 * A shopper's events grouped into visits (the Web SDK's visit ID), each with where it came
 * from: the landing page, the referrer and the UTM campaign of its first event.
 */
import type { TrackedEvent } from "../events/event.model.ts";
import { deviceOf, visitOf } from "../events/links.ts";

export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
}

export interface Visit {
  visitId: string;
  deviceId: string | null;
  /** occurredAt of its first and last event. */
  start: string;
  end: string;
  landingPage: string | null;
  referrer: string | null;
  utm: Utm;
  events: TrackedEvent[];
}

const UTM_KEYS = ["source", "medium", "campaign", "term", "content"] as const;

/** The utm_* parameters of a page URL (an unparseable URL has none). */
export function utmOf(pageUrl: string | null): Utm {
  const utm: Utm = {};
  if (!pageUrl) return utm;
  let params: URLSearchParams;
  try {
    params = new URL(pageUrl).searchParams;
  } catch {
    return utm;
  }
  for (const key of UTM_KEYS) {
    const value = params.get(`utm_${key}`);
    if (value) utm[key] = value;
  }
  return utm;
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

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

/** The visits among `events` (sorted oldest first), oldest first; events without a visit ID belong to none. */
export function groupVisits(events: TrackedEvent[]): Visit[] {
  const visits = new Map<string, Visit>();
  for (const event of events) {
    const visitId = visitOf(event);
    if (visitId === null) continue;
    const visit = visits.get(visitId);
    if (visit) {
      visit.events.push(event);
      visit.end = event.occurredAt;
      continue;
    }
    const landingPage = text(event.properties.pageUrl);
    visits.set(visitId, {
      visitId,
      deviceId: deviceOf(event) || null,
      start: event.occurredAt,
      end: event.occurredAt,
      landingPage,
      referrer: text(event.properties.referrer),
      utm: utmOf(landingPage),
      events: [event],
    });
  }
  return [...visits.values()];
}
