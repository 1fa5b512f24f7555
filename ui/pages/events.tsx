/** Events newest first, live, filtered, paged back, with a detail view and a test-event snippet. */
import { ownAccount } from "../session.ts";
import { useEffect, useRef, useState } from "preact/hooks";
import type { PageProps } from "../routing.ts";
import { api, query, type EventDelivery, type LeadDelivery, type TrackedEvent } from "../api.ts";
import { CopyButton } from "../components/copy-button.tsx";
import { EventTable } from "../components/event-table.tsx";
import { FirstEvent } from "../components/first-event.tsx";
import { JsonView } from "../components/json-view.tsx";
import { ErrorLine } from "../components/status.tsx";
import { shellQuote } from "../shell-quote.ts";

const FILTERS = [
  ["accountId", "Account ID"],
  ["trackerId", "Tracker ID"],
  ["action", "Action"],
  ["object", "Object"],
  ["vendor", "Vendor"],
  ["product", "Product"],
  ["instanceId", "Instance ID"],
] as const;

type Filters = Record<(typeof FILTERS)[number][0] | "test", string>;

export function EventsPage({ params }: PageProps) {
  const initial = Object.fromEntries([
    // A credential limited to accounts lists one of them (the server asks it to name one).
    ...FILTERS.map(([k]) => [k, params.get(k) ?? (k === "accountId" ? ownAccount() : "")]),
    ["test", params.get("test") ?? ""],
  ]) as Filters;
  const [draft, setDraft] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  const [events, setEvents] = useState<TrackedEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [live, setLive] = useState(true);
  const [selected, setSelected] = useState<string | null>(params.get("event"));
  const [error, setError] = useState<string | null>(null);
  const source = useRef<EventSource | null>(null);

  useEffect(() => {
    setError(null);
    api<{ events: TrackedEvent[]; next: string | null }>(
      `/events${query({ ...filters, limit: 50 })}`,
    ).then(
      (page) => {
        setEvents(page.events);
        setNext(page.next);
        setLoaded(true);
      },
      (e) => setError((e as Error).message),
    );
  }, [filters]);

  useEffect(() => {
    if (!live) return;
    const es = new EventSource(`/admin/api/events/stream${query(filters)}`);
    es.addEventListener("event", (m) => {
      const event = JSON.parse((m as MessageEvent<string>).data) as TrackedEvent;
      setEvents((list) =>
        list.some((e) => e.eventId === event.eventId) ? list : [event, ...list],
      );
    });
    source.current = es;
    return () => es.close();
  }, [filters, live]);

  const older = async () => {
    if (!next) return;
    const page = await api<{ events: TrackedEvent[]; next: string | null }>(
      `/events${query({ ...filters, limit: 50, before: next })}`,
    );
    setEvents((list) => [...list, ...page.events]);
    setNext(page.next);
  };

  return (
    <section>
      <h1>Events</h1>
      <form
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        {FILTERS.map(([key, label]) => (
          <div>
            <label for={`f-${key}`}>{label}</label>
            <input
              id={`f-${key}`}
              value={draft[key]}
              onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
            />
          </div>
        ))}
        <div>
          <label for="f-test">Test events</label>
          <select
            id="f-test"
            value={draft.test}
            onChange={(e) => setDraft({ ...draft, test: e.currentTarget.value })}
          >
            <option value="">included</option>
            <option value="false">hidden</option>
            <option value="true">only</option>
          </select>
        </div>
        <div class="actions">
          <button type="submit">Apply filters</button>
          <label class="inline">
            <input
              type="checkbox"
              checked={live}
              onChange={(e) => setLive(e.currentTarget.checked)}
            />{" "}
            Live
          </label>
        </div>
      </form>
      <ErrorLine error={error} />
      {filters.accountId && filters.trackerId && (
        <Snippet aid={filters.accountId} tid={filters.trackerId} />
      )}
      {loaded && events.length === 0 && !error ? (
        Object.values(filters).some(Boolean) ? (
          <p class="muted">No events match these filters.</p>
        ) : (
          <FirstEvent />
        )
      ) : null}
      <div class={selected ? "split" : undefined} hidden={events.length === 0}>
        <div>
          <EventTable
            events={events}
            onSelect={(e) => setSelected(e.eventId)}
            selected={selected}
          />
          {next && (
            <button type="button" onClick={older}>
              Older events
            </button>
          )}
        </div>
        {selected && <EventDetail eventId={selected} onClose={() => setSelected(null)} />}
      </div>
    </section>
  );
}

/** GET /admin/api/events/{id}: the event, where each sink has it, and a lead's CRM deliveries. */
interface Receipt {
  event: TrackedEvent;
  delivery: EventDelivery[];
  leadDeliveries: LeadDelivery[];
}

function EventDetail({ eventId, onClose }: { eventId: string; onClose: () => void }) {
  const [data, setData] = useState<Receipt | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setData(null);
    api<Receipt>(`/events/${eventId}`).then(setData, (e) => setError((e as Error).message));
  }, [eventId]);
  return (
    <aside class="card detail" aria-label="Event detail">
      <div class="row">
        <h2>Event</h2>
        <button type="button" class="small" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorLine error={error} />
      {data && (
        <>
          <p class="mono">{data.event.eventId}</p>
          <p>
            <a
              href={`#/journey${query({ accountId: data.event.accountId, eventId: data.event.eventId })}`}
            >
              Shopper journey
            </a>
            {" · "}
            <a
              href={`#/instance${query({ accountId: data.event.accountId, instanceId: data.event.instanceId })}`}
            >
              Timeline of instance {data.event.instanceId}
            </a>
          </p>
          <ul class="delivery">
            {data.delivery.map((d) => (
              <li>
                {d.sink}:{" "}
                <span
                  class={`badge ${d.status === "delivered" ? "ok" : d.status === "dead_lettered" ? "bad" : ""}`}
                >
                  {d.status}
                </span>{" "}
                {d.cause ?? ""}
              </li>
            ))}
            {data.leadDeliveries.map((d) => (
              <li key={`crm-${d.sink}`}>
                {d.sink} (CRM):{" "}
                <span
                  class={`badge ${d.state === "delivered" ? "ok" : d.state === "refused" ? "bad" : "warn"}`}
                >
                  {d.state}
                </span>{" "}
                <span class="muted mono">{d.answer ?? ""}</span>
              </li>
            ))}
          </ul>
          <JsonView value={data.event} label="stored JSON" />
        </>
      )}
    </aside>
  );
}

/** How to send a test event to this tracker: checked only (oa_debug) or stored as a test (oa_track=false). */
function Snippet({ aid, tid }: { aid: string; tid: string }) {
  // aid and tid come from the page's address, which anyone can write: every value is quoted.
  const base = `${location.origin}/collect/${encodeURIComponent(aid)}/${encodeURIComponent(tid)}/event`;
  const body = shellQuote(
    JSON.stringify({
      action: "view",
      object: "page",
      vendor: "Vendor A",
      product: "Product 1",
      instance_id: "test-123",
    }),
  );
  const text = [
    `# check only, nothing stored:`,
    `curl -s -X POST ${shellQuote(`${base}?oa_debug=true`)} -H 'Content-Type: application/json' -d ${body}`,
    `# store as a test event (never delivered):`,
    `curl -i -X POST ${shellQuote(`${base}?oa_track=false`)} -H 'Content-Type: application/json' -d ${body}`,
  ].join("\n");
  return (
    <details class="card">
      <summary>
        Send a test event to {aid} / {tid}
      </summary>
      <div class="row">
        <span class="muted">curl</span>
        <CopyButton text={text} label="Copy curl commands" />
      </div>
      <pre>{text}</pre>
    </details>
  );
}
