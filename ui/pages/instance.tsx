/** One timeline of every event sharing an instance ID within an account: browser and server joined. */
import { useEffect, useState } from "preact/hooks";
import { navigate, type PageProps } from "../routing.ts";
import { api, query, type TrackedEvent } from "../api.ts";
import { AccountInput } from "../components/id-pickers.tsx";
import { useFollowUrl } from "../components/follow-url.ts";
import { ErrorLine } from "../components/status.tsx";
import { localTime } from "../format.ts";

export function InstancePage({ params }: PageProps) {
  const [accountId, setAccountId] = useState(params.get("accountId") ?? "");
  const [instanceId, setInstanceId] = useState(params.get("instanceId") ?? "");
  const [events, setEvents] = useState<TrackedEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const a = params.get("accountId");
  const i = params.get("instanceId");
  useFollowUrl(`${a}\u0000${i}`, () => {
    setAccountId(a ?? "");
    setInstanceId(i ?? "");
  });
  useEffect(() => {
    if (!a || !i) return;
    setError(null);
    api<{ events: TrackedEvent[] }>(
      `/instances/${encodeURIComponent(a)}${query({ instanceId: i })}`,
    ).then(
      (r) => setEvents(r.events),
      (e) => setError((e as Error).message),
    );
  }, [a, i]);

  return (
    <section>
      <h1>Instance timeline</h1>
      <p class="muted">
        Every event that shares an instance ID (a chat ID, a lead ID) within one account, oldest
        first, from the website and from vendors' servers.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("instance", { accountId: accountId.trim(), instanceId: instanceId.trim() });
        }}
      >
        <div>
          <label for="i-account">Account ID</label>
          <AccountInput id="i-account" value={accountId} onValue={setAccountId} required />
        </div>
        <div class="wide">
          <label for="i-instance">Instance ID</label>
          <input
            id="i-instance"
            value={instanceId}
            onInput={(e) => setInstanceId(e.currentTarget.value)}
            required
          />
        </div>
        <button type="submit">Show timeline</button>
      </form>
      <ErrorLine error={error} />
      {events && events.length === 0 && (
        <p class="muted">No events with this instance ID in this account.</p>
      )}
      {events && events.length > 0 && (
        <p>
          <a
            href={`#/journey${query({ accountId: params.get("accountId"), instanceId: params.get("instanceId") })}`}
          >
            Shopper journey
          </a>
          <span class="muted">
            {" "}
            — the visits, campaign and leads of the shopper behind this instance
          </span>
        </p>
      )}
      {events && events.length > 0 && (
        <ol class="timeline">
          {events.map((e) => (
            <li key={e.eventId} class={`source-${e.context.source}`}>
              <span class="when">{localTime(e.receivedAt)}</span>
              <span class="tag">{e.context.source}</span>
              <strong>
                {e.action} {e.object}
              </strong>
              <span>
                {e.vendor} · {e.product}
              </span>
              {e.label && <span class="muted">“{e.label}”</span>}
              <a
                href={`#/events${query({ accountId: e.accountId, trackerId: e.trackerId, event: e.eventId })}`}
              >
                details
              </a>
              <a href={`#/journey${query({ accountId: e.accountId, eventId: e.eventId })}`}>
                journey
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
