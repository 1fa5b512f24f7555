/**
 * The shopper behind an event or an instance ID: their visits (landing page, referrer,
 * campaign, the pages and vehicles viewed), the leads among their events, and how each part
 * was linked. Everything from events is rendered as text.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate, type PageProps } from "../routing.ts";
import {
  api,
  query,
  type Journey,
  type LinkStep,
  type RememberedEvent,
  type TrackedEvent,
  type Visit,
} from "../api.ts";
import { AccountInput } from "../components/id-pickers.tsx";
import { useFollowUrl } from "../components/follow-url.ts";
import { LeadDetailView } from "../components/lead-detail.tsx";
import { ErrorLine } from "../components/status.tsx";
import { localTime, plural } from "../format.ts";

const KIND_NAMES: Record<string, string> = {
  instance: "instance ID",
  device: "device",
  user: "user ID",
  email: "email (SHA-256)",
  phone: "phone (SHA-256)",
  event: "event",
};

/** Long IDs and hashes shortened for reading; the full value stays in the title. */
const short = (s: string) => (s.length > 24 ? `${s.slice(0, 10)}…${s.slice(-8)}` : s);

/** A page as its path ("/vdp/123"), with "?…" when it has a query; the full URL stays in the title. */
function pagePath(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + (u.search ? "?…" : "");
  } catch {
    return short(url);
  }
}

export function JourneyPage({ params }: PageProps) {
  const [accountId, setAccountId] = useState(params.get("accountId") ?? "");
  const [ref, setRef] = useState(params.get("eventId") ?? params.get("instanceId") ?? "");
  const [journey, setJourney] = useState<Journey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const a = params.get("accountId");
  const eventId = params.get("eventId");
  const instanceId = params.get("instanceId");

  useFollowUrl(`${a}\u0000${eventId}\u0000${instanceId}`, () => {
    setAccountId(a ?? "");
    setRef(eventId ?? instanceId ?? "");
  });
  useEffect(() => {
    if (!a || (!eventId && !instanceId)) return;
    setError(null);
    setJourney(null);
    api<Journey>(`/journey${query({ accountId: a, eventId, instanceId })}`).then(setJourney, (e) =>
      setError((e as Error).message),
    );
  }, [a, eventId, instanceId]);

  return (
    <section>
      <h1>Shopper journey</h1>
      <p class="muted">
        The shopper behind an event: the visits, pages and vehicles seen on the website, the
        campaign that brought them, and the leads from vendors, joined by instance ID, device, user
        ID and hashed email or phone.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          const value = ref.trim();
          const isEventId = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/i.test(value);
          navigate("journey", {
            accountId: accountId.trim(),
            ...(isEventId ? { eventId: value } : { instanceId: value }),
          });
        }}
      >
        <div>
          <label for="j-account">Account ID</label>
          <AccountInput id="j-account" value={accountId} onValue={setAccountId} required />
        </div>
        <div class="wide">
          <label for="j-ref">Event ID or instance ID</label>
          <input id="j-ref" value={ref} onInput={(e) => setRef(e.currentTarget.value)} required />
        </div>
        <button type="submit">Show journey</button>
      </form>
      <ErrorLine error={error} />
      {journey && <JourneyView journey={journey} />}
    </section>
  );
}

function JourneyView({ journey }: { journey: Journey }) {
  const leadIds = new Set(journey.leads.map((l) => l.eventId));
  const inVisits = new Set(journey.visits.flatMap((v) => v.events.map((e) => e.eventId)));
  // Visits and the events outside any visit (server events, leads), in time order.
  // Events whose raw record retention deleted are what the long memory kept of them.
  const blocks: (
    | { visit: Visit; at: string }
    | { event: TrackedEvent; at: string }
    | { remembered: RememberedEvent; at: string }
  )[] = [
    ...journey.visits.map((visit) => ({ visit, at: visit.start })),
    ...journey.events
      .filter((e) => !inVisits.has(e.eventId))
      .map((event) => ({ event, at: event.occurredAt })),
    ...journey.remembered.map((remembered) => ({ remembered, at: remembered.occurredAt })),
  ].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
  let visitNumber = 0;

  return (
    <>
      <section class="card summary" aria-label="Summary">
        <strong>
          {plural(journey.visits.length, "visit")} · {plural(journey.deviceIds.length, "device")} ·{" "}
          {plural(journey.leads.length, "lead")} · {plural(journey.events.length, "event")}
        </strong>
        {journey.visits.length === 0 && (
          <p class="muted">No website visit is linked to this event: the lead is unmatched.</p>
        )}
        {journey.truncated && (
          <p class="warn-line">
            Some links were not followed (a shared identifier or a bound): see “How it was linked”.
          </p>
        )}
      </section>
      {journey.leads.length > 0 && (
        <>
          <h2>Leads</h2>
          <ul class="leads">
            {journey.leads.map((l) => (
              <li key={l.eventId} class="card lead">
                <EventLine event={l} />
                <LeadDetailView accountId={l.accountId} eventId={l.eventId} />
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Timeline</h2>
      <ol class="journey">
        {blocks.map((b) =>
          "visit" in b ? (
            <li key={b.visit.visitId} class="card visit">
              <VisitCard visit={b.visit} n={++visitNumber} leadIds={leadIds} />
            </li>
          ) : "remembered" in b ? (
            <li key={b.remembered.eventId} class="card outside">
              <RememberedLine event={b.remembered} />
            </li>
          ) : (
            <li
              key={b.event.eventId}
              class={`card outside${leadIds.has(b.event.eventId) ? " lead" : ""}`}
            >
              <EventLine event={b.event} />
            </li>
          ),
        )}
      </ol>
      <details class="card" open={journey.truncated}>
        <summary>How it was linked</summary>
        <ul class="why">
          {journey.why.map((s, i) => (
            <li key={i} class={s.followed ? undefined : "not-followed"}>
              <WhyLine step={s} />
            </li>
          ))}
        </ul>
      </details>
    </>
  );
}

function VisitCard({ visit, n, leadIds }: { visit: Visit; n: number; leadIds: Set<string> }) {
  const utm = visit.utm;
  return (
    <>
      <div class="row">
        <h3>
          Visit {n} · {localTime(visit.start)}
        </h3>
        <span class="muted mono" title={visit.deviceId ?? ""}>
          device {short(visit.deviceId ?? "unknown")}
        </span>
      </div>
      <dl class="visit-facts">
        <dt>Campaign</dt>
        <dd>
          {utm.campaign || utm.source || utm.medium ? (
            <span class="chips">
              {utm.source && <span class="chip">source: {utm.source}</span>}
              {utm.medium && <span class="chip">medium: {utm.medium}</span>}
              {utm.campaign && <span class="chip">campaign: {utm.campaign}</span>}
            </span>
          ) : (
            <span class="muted">{visit.internal ? "none: came from the site itself" : "none"}</span>
          )}
        </dd>
        {Object.keys(visit.clickIds).length > 0 && (
          <>
            <dt>Ad click</dt>
            <dd class="chips">
              {Object.entries(visit.clickIds).map(([name, id]) => (
                <span class="chip mono" key={name} title={id}>
                  {name}: {short(id)}
                </span>
              ))}
            </dd>
          </>
        )}
        <dt>Referrer</dt>
        <dd class="url">{visit.referrer ?? <span class="muted">direct</span>}</dd>
        <dt>Landing page</dt>
        <dd class="url clamp" title={visit.landingPage ?? ""}>
          {visit.landingPage ?? <span class="muted">unknown</span>}
        </dd>
        <dt>Pages</dt>
        <dd>
          {visit.pageViews} page view{visit.pageViews === 1 ? "" : "s"}
          {visit.vehicles.length > 0 && (
            <>
              {" · vehicles "}
              <span class="mono">{visit.vehicles.join(", ")}</span>
            </>
          )}
        </dd>
      </dl>
      {visit.summarized > 0 && (
        <p class="muted summary-only">
          Only a summary is left of {visit.events.length === 0 ? "this visit's" : "its first"}{" "}
          {visit.summarized} event{visit.summarized === 1 ? "" : "s"}: retention deleted the raw
          events; the long memory keeps where the visit came from, when, its pages and vehicles.
        </p>
      )}
      <ul class="visit-events">
        {visit.events.map((e) => (
          <li key={e.eventId} class={leadIds.has(e.eventId) ? "lead" : undefined}>
            <EventLine event={e} />
          </li>
        ))}
      </ul>
    </>
  );
}

/** An event outside any visit that retention deleted: what the long memory kept of it. */
function RememberedLine({ event }: { event: RememberedEvent }) {
  return (
    <span class="event-line">
      <EventHead event={event} source={event.source} />
      <span class="muted">summary only: the raw event was deleted by retention</span>
    </span>
  );
}

/** When, from where and what an event was: the start of every event line. */
function EventHead({
  event,
  source,
}: {
  event: Pick<TrackedEvent, "occurredAt" | "action" | "object" | "label" | "vendor" | "product">;
  source: string;
}) {
  return (
    <>
      <span class="when">{localTime(event.occurredAt)}</span>
      <span class="tag">{source}</span>
      <strong>
        {event.action} {event.object}
      </strong>
      {event.label && <span>“{event.label}”</span>}
      <span class="muted">
        {event.vendor} · {event.product}
      </span>
    </>
  );
}

function EventLine({ event }: { event: TrackedEvent }) {
  const page = typeof event.properties.pageUrl === "string" ? event.properties.pageUrl : null;
  return (
    <span class="event-line">
      <EventHead event={event} source={event.context.source} />
      {page && (
        <span class="muted url" title={page}>
          {pagePath(page)}
        </span>
      )}
      <a
        href={`#/events${query({ accountId: event.accountId, trackerId: event.trackerId, event: event.eventId })}`}
      >
        details
      </a>
    </span>
  );
}

/** Why a step was not followed, in the page's words. */
const NOT_FOLLOWED: Record<NonNullable<LinkStep["reason"]>, (step: LinkStep) => string> = {
  shared: (step) => `shared by ${step.shoppers} shoppers`,
  too_many_events: (step) => `on more than ${step.events - 1} events`,
  too_many_devices: () => "would join too many devices",
  junk: () => "a placeholder value that never links",
  conflicting_identity: () => "its events carry another shopper's user ID or email",
};

function WhyLine({ step }: { step: LinkStep }) {
  const what = (
    <>
      {KIND_NAMES[step.kind]}{" "}
      <span class="mono" title={step.value}>
        {short(step.value)}
      </span>
    </>
  );
  const via = step.via ? (
    <>
      , carried by event <span class="mono">{short(step.via.eventId)}</span>
      {step.via.kind !== "event" && (
        <>
          {" "}
          (reached by {KIND_NAMES[step.via.kind]}{" "}
          <span class="mono" title={step.via.value}>
            {short(step.via.value)}
          </span>
          )
        </>
      )}
    </>
  ) : (
    ", the one asked for"
  );
  const outcome = step.followed
    ? `: ${step.events} event${step.events === 1 ? "" : "s"}, followed`
    : `: ${NOT_FOLLOWED[step.reason ?? "too_many_devices"](step)}, not followed`;
  return (
    <span>
      {what}
      {via}
      {outcome}
    </span>
  );
}
