/** Check an aid/tid pair (or a pasted collect URL) against the registry, and see what arrives. */
import { useEffect, useState } from "preact/hooks";
import { navigate, type PageProps } from "../routing.ts";
import { api, query, type CheckResult, type UnregisteredPair } from "../api.ts";
import { EventTable } from "../components/event-table.tsx";
import { AccountInput, TrackerInput } from "../components/id-pickers.tsx";
import { Badge, ErrorLine } from "../components/status.tsx";
import { timeAgo } from "../format.ts";

export function CheckPage({ params }: PageProps) {
  const [aid, setAid] = useState(params.get("aid") ?? "");
  const [tid, setTid] = useState(params.get("tid") ?? "");
  const [url, setUrl] = useState("");
  const [result, setResult] = useState<CheckResult | null>(null);
  const [pairs, setPairs] = useState<UnregisteredPair[]>([]);
  const [error, setError] = useState<string | null>(null);

  const run = async (q: Record<string, string>) => {
    setError(null);
    try {
      const r = await api<CheckResult>(`/check${query(q)}`);
      setResult(r);
      if (r.aid.raw) setAid(r.aid.raw);
      if (r.tid.raw) setTid(r.tid.raw);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    api<{ pairs: UnregisteredPair[] }>("/unregistered").then(
      (r) => setPairs(r.pairs),
      (e) => setError((e as Error).message),
    );
    if (params.get("aid") && params.get("tid"))
      void run({ aid: params.get("aid")!, tid: params.get("tid")! });
  }, []);

  return (
    <section>
      <h1>Check account and tracker IDs</h1>
      <p class="muted">
        The aid and tid in a collect URL must match the registry exactly. Type them, or paste a
        whole collect URL.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          void run(url.trim() ? { url: url.trim() } : { aid, tid });
        }}
      >
        <div>
          <label for="check-aid">Account ID (aid)</label>
          <AccountInput id="check-aid" value={aid} onValue={setAid} prefill={false} />
        </div>
        <div>
          <label for="check-tid">Tracker ID (tid)</label>
          <TrackerInput id="check-tid" value={tid} onValue={setTid} accountId={aid} />
        </div>
        <div class="wide">
          <label for="check-url">or a collect URL</label>
          <input
            id="check-url"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
            placeholder="https://…/collect/1001/1/event"
          />
        </div>
        <button type="submit">Check</button>
      </form>
      <ErrorLine error={error} />
      {result && <CheckReport result={result} onPick={(a, t) => void run({ aid: a, tid: t })} />}

      <h2>Unregistered IDs clients are sending</h2>
      {pairs.length === 0 ? (
        <p class="muted">None: every pair that sent events is registered.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">aid / tid</th>
                <th scope="col">Events</th>
                <th scope="col">Rejected</th>
                <th scope="col">Last seen</th>
                <th scope="col">Did you mean</th>
              </tr>
            </thead>
            <tbody>
              {pairs.map((p) => (
                <tr key={`${p.accountId}/${p.trackerId}`}>
                  <td class="mono">
                    <button
                      type="button"
                      class="link"
                      onClick={() => void run({ aid: p.accountId, tid: p.trackerId })}
                    >
                      {p.accountId} / {p.trackerId}
                    </button>
                  </td>
                  <td>{p.accepted + p.test}</td>
                  <td>{p.rejected}</td>
                  <td>{timeAgo(p.lastEventAt ?? p.lastRejectAt)}</td>
                  <td>
                    {p.suggestions.length ? (
                      p.suggestions.map((s) => (
                        <div class="suggestion">{`${s.accountId} / ${s.trackerId}: ${s.reason}`}</div>
                      ))
                    ) : (
                      <span class="muted">no close match</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CheckReport({
  result,
  onPick,
}: {
  result: CheckResult;
  onPick: (aid: string, tid: string) => void;
}) {
  const { account, tracker, activity } = result;
  const pairOk = account.registered && tracker.registered;
  return (
    <div class="card" aria-live="polite">
      <h2>
        {result.aid.raw || "?"} / {result.tid.raw || "?"}:{" "}
        {pairOk ? "registered" : "not registered"}
      </h2>
      <ul class="checks">
        <li>
          {result.aid.valid ? (
            <Badge
              ok={account.registered}
              yes={`Account ${result.aid.id} is ${account.name}`}
              no={`Account ${result.aid.id} is not registered`}
            />
          ) : (
            <Badge
              ok={false}
              yes=""
              no={`"${result.aid.raw}" is not a valid account ID (a positive integer or a UUID)`}
            />
          )}
        </li>
        <li>
          {result.tid.valid ? (
            <Badge
              ok={tracker.registered}
              yes={`Tracker ${result.tid.id} is ${tracker.name}, under this account`}
              no={
                tracker.registeredUnder?.length
                  ? `Tracker ${result.tid.id} is registered under account ${tracker.registeredUnder.join(", ")}, not this one`
                  : `Tracker ${result.tid.id} is not registered`
              }
            />
          ) : (
            <Badge ok={false} yes="" no={`"${result.tid.raw}" is not a valid tracker ID`} />
          )}
        </li>
      </ul>
      {result.suggestions.length > 0 && (
        <div class="suggestions">
          <strong>Did you mean</strong>
          <ul>
            {result.suggestions.map((s) => (
              <li>
                <button type="button" class="link" onClick={() => onPick(s.accountId, s.trackerId)}>
                  {s.accountId} / {s.trackerId}
                </button>{" "}
                <span class="muted">({s.reason})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {activity && (
        <p>
          Last event {timeAgo(activity.lastEventAt)}; {activity.lastHour} in the last hour,{" "}
          {activity.lastDay} in the last day; {activity.accepted} accepted, {activity.test} test,{" "}
          {activity.rejected} rejected in all.
        </p>
      )}
      {result.latestEvents.length > 0 && (
        <>
          <h3>Latest events</h3>
          <EventTable
            events={result.latestEvents}
            showJourney
            onSelect={(e) =>
              navigate("events", {
                accountId: e.accountId,
                trackerId: e.trackerId,
                event: e.eventId,
              })
            }
          />
        </>
      )}
      {result.latestRejects.length > 0 && (
        <>
          <h3>Latest rejected requests</h3>
          <ul>
            {result.latestRejects.map((r) => (
              <li>
                {timeAgo(r.at)}: <span class="mono">{r.code}</span>{" "}
                {r.details.map((d) => `${d.path || "(body)"} ${d.code}`).join(", ")}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
