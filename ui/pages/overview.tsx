/** Events per minute, totals per tracker, storage, sinks with their lag, dead letters. */
import { useEffect, useState } from "preact/hooks";
import { api, type Overview, type SinkReport } from "../api.ts";
import { ErrorLine } from "../components/status.tsx";
import { bytes, timeAgo } from "../format.ts";

function Chart({ series }: { series: Overview["perMinute"] }) {
  const peak = Math.max(0, ...series.map((p) => p.count));
  const max = Math.max(1, peak); // the bar scale
  const total = series.reduce((n, p) => n + p.count, 0);
  const w = 720;
  const h = 120;
  const bar = w / Math.max(1, series.length);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`Events per minute over the last ${series.length} minutes: ${total} in all, at most ${peak} in one minute`}
        preserveAspectRatio="none"
      >
        {series.map((p, i) => (
          <rect
            x={i * bar}
            y={h - (p.count / max) * h}
            width={Math.max(1, bar - 1)}
            height={(p.count / max) * h}
          >
            <title>{`${new Date(p.at).toLocaleTimeString()}: ${p.count}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption class="muted">
        Events per minute, last {Math.round(series.length / 60)} h: {total} in all, peak {peak}/min
      </figcaption>
    </figure>
  );
}

export function OverviewPage() {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [health, setHealth] = useState<Record<string, { ok: boolean; detail: string }>>({});
  const checkHealth = async () => {
    const r = await api<{ sinks: SinkReport[] }>("/sinks?check=true");
    setHealth(
      Object.fromEntries(
        r.sinks.map((s) => [s.name, s.health ?? { ok: false, detail: "no answer" }]),
      ),
    );
  };
  const load = () =>
    api<Overview>("/overview?minutes=180").then(setData, (e) => setError((e as Error).message));
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  const replay = async (sink?: string) => {
    const r = await api<{ requeued: number }>(
      `/dead-letters/replay${sink ? `?sink=${encodeURIComponent(sink)}` : ""}`,
      { method: "POST" },
    );
    setNote(`${r.requeued} dead letter${r.requeued === 1 ? "" : "s"} queued for delivery again.`);
    load();
  };
  if (!data) return <ErrorLine error={error} />;
  const { storage } = data;
  return (
    <section>
      <h1>Overview</h1>
      <ErrorLine error={error} />
      <Chart series={data.perMinute} />
      <div class="grid">
        <div class="card">
          <h2>Storage</h2>
          <p>
            {storage.storedEvents} events, {bytes(storage.usedBytes)} of data
            {storage.capBytes > 0
              ? ` (cap ${bytes(storage.capBytes)}, ${((storage.usedBytes / storage.capBytes) * 100).toFixed(1)}%)`
              : ""}
            ; file {bytes(storage.fileBytes)}
          </p>
        </div>
        <div class="card">
          <h2>Dead letters</h2>
          <p>{data.deadLetters} waiting</p>
          {data.deadLetters > 0 && (
            <button type="button" onClick={() => replay()}>
              Replay all dead letters
            </button>
          )}
          {note && <p role="status">{note}</p>}
        </div>
      </div>
      <div class="row">
        <h2>Sinks</h2>
        <button type="button" class="small" onClick={checkHealth}>
          Run health checks
        </button>
      </div>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Sink</th>
              <th scope="col">State</th>
              <th scope="col">Delivered</th>
              <th scope="col">Lag</th>
              <th scope="col">Dead letters</th>
              <th scope="col">Last error</th>
              <th scope="col">Health check</th>
            </tr>
          </thead>
          <tbody>
            {data.sinks.map((s) => (
              <tr key={s.name}>
                <td>
                  {s.name} <span class="muted">({s.kind})</span>
                </td>
                <td>
                  <span class={`badge ${s.attempts === 0 ? "ok" : "bad"}`}>{s.state}</span>
                </td>
                <td>{s.delivered}</td>
                <td>
                  {s.lag.events} events
                  {s.lag.oldestAgeMs !== null
                    ? `, oldest ${Math.round(s.lag.oldestAgeMs / 1000)} s`
                    : ""}
                </td>
                <td>
                  {s.deadLetters}
                  {s.deadLetters > 0 && (
                    <button type="button" class="small" onClick={() => replay(s.name)}>
                      Replay
                    </button>
                  )}
                </td>
                <td>{s.lastError ? `${s.lastError} (${timeAgo(s.lastErrorAt)})` : "—"}</td>
                <td>
                  {health[s.name] ? (
                    <span class={`badge ${health[s.name]!.ok ? "ok" : "bad"}`}>
                      {health[s.name]!.detail}
                    </span>
                  ) : (
                    <span class="muted">not run</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Trackers</h2>
      {data.trackers.length === 0 && <p class="muted">No events have arrived yet.</p>}
      <div class="table-wrap" hidden={data.trackers.length === 0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Tracker</th>
              <th scope="col">Last hour</th>
              <th scope="col">Last day</th>
              <th scope="col">Accepted</th>
              <th scope="col">Rejected</th>
              <th scope="col">Last event</th>
            </tr>
          </thead>
          <tbody>
            {data.trackers.map((t) => (
              <tr key={`${t.accountId}/${t.trackerId}`}>
                <td>
                  <span class="mono">{t.accountId}</span>{" "}
                  {t.accountName ?? <span class="tag warn">unregistered</span>}
                </td>
                <td>
                  <a
                    href={`#/events?accountId=${encodeURIComponent(t.accountId)}&trackerId=${encodeURIComponent(t.trackerId)}`}
                    class="mono"
                  >
                    {t.trackerId}
                  </a>{" "}
                  {t.trackerName ?? <span class="tag warn">unregistered</span>}
                </td>
                <td>{t.lastHour}</td>
                <td>{t.lastDay}</td>
                <td>{t.accepted}</td>
                <td>{t.rejected}</td>
                <td>{timeAgo(t.lastEventAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
