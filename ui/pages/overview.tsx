/** Events per minute, totals per tracker, storage, sinks with their lag, dead letters. */
import { useEffect, useState } from "preact/hooks";
import { api, type Overview, type SinkReport } from "../api.ts";
import { ErrorLine } from "../components/status.tsx";
import { FirstEvent } from "../components/first-event.tsx";
import { bytes, timeAgo, plural } from "../format.ts";

/** A sink's last error, dated; once a batch has gone through since, it is shown as past. */
function LastError({ sink }: { sink: SinkReport }) {
  if (!sink.lastError) return <>—</>;
  const recovered = sink.lastOkAt !== null && sink.lastOkAt > (sink.lastErrorAt ?? "");
  return recovered ? (
    <span class="muted">
      recovered {timeAgo(sink.lastOkAt)}; last error {timeAgo(sink.lastErrorAt)}: {sink.lastError}
    </span>
  ) : (
    <span>
      {sink.lastError} <span class="muted">(since {timeAgo(sink.lastErrorAt)})</span>
    </span>
  );
}

/** The chart's windows: how far back, and how many minutes each bar adds up. */
const WINDOWS = [
  { label: "1 h", minutes: 60, per: 1 },
  { label: "6 h", minutes: 360, per: 5 },
  { label: "24 h", minutes: 1440, per: 20 },
] as const;
type ChartWindow = (typeof WINDOWS)[number];

/** The smallest 1, 2 or 5 times a power of ten at or above `n` (at least 1): the y axis's top. */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function Chart({ series, span }: { series: Overview["perMinute"]; span: ChartWindow }) {
  // Minutes summed into bars of `span.per` minutes, oldest first.
  const bars: { at: string; count: number }[] = [];
  for (let i = 0; i < series.length; i += span.per)
    bars.push({
      at: series[i]!.at,
      count: series.slice(i, i + span.per).reduce((n, p) => n + p.count, 0),
    });
  const peak = Math.max(0, ...bars.map((b) => b.count));
  const top = niceCeiling(peak);
  const total = bars.reduce((n, b) => n + b.count, 0);
  const w = 720;
  const h = 120;
  const slot = w / Math.max(1, bars.length);
  const unit = span.per === 1 ? "minute" : `${span.per} minutes`;
  const start = bars[0] ? Date.parse(bars[0].at) : Date.now();
  return (
    <figure class="chart">
      <div class="chart-plot">
        <div class="y-axis" aria-hidden="true">
          <span>{top}</span>
          <span>{top / 2}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${w} ${h}`}
          role="img"
          aria-label={`Events per ${unit} over the last ${span.label}: ${total} in all, at most ${peak} in one ${unit}`}
          preserveAspectRatio="none"
        >
          {[0, 0.5, 1].map((f) => (
            <line
              class="grid"
              x1="0"
              x2={w}
              y1={h * f}
              y2={h * f}
              vector-effect="non-scaling-stroke"
            />
          ))}
          {bars.map((b, i) => {
            // A bar with any event is at least 3 units tall: one event must be seen.
            const height = b.count === 0 ? 0 : Math.max(3, (b.count / top) * h);
            return (
              <rect x={i * slot + slot * 0.1} y={h - height} width={slot * 0.8} height={height}>
                <title>{`${clock(Date.parse(b.at))}: ${b.count}`}</title>
              </rect>
            );
          })}
        </svg>
        <div class="x-axis" aria-hidden="true">
          <span>{clock(start)}</span>
          <span>{clock(start + (span.minutes * 60_000) / 2)}</span>
          <span>now</span>
        </div>
      </div>
      <figcaption class="muted">
        Events per {unit}, last {span.label}: {total} in all, at most {peak} in one {unit}
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
  const [span, setSpan] = useState<ChartWindow>(WINDOWS[0]);
  const load = () =>
    api<Overview>(`/overview?minutes=${span.minutes}`).then(setData, (e) =>
      setError((e as Error).message),
    );
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [span]);
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
      {/* biome-ignore lint/a11y/useSemanticElements: toggle buttons choosing the chart's span, not a form */}
      <div class="chips" role="group" aria-label="Chart window">
        {WINDOWS.map((w) => (
          <button
            type="button"
            class={w === span ? "chip on" : "chip"}
            aria-pressed={w === span}
            onClick={() => setSpan(w)}
          >
            {w.label}
          </button>
        ))}
      </div>
      <Chart series={data.perMinute} span={span} />
      <div class="grid">
        <div class="card">
          <h2>Storage</h2>
          <p>
            {plural(storage.storedEvents, "event")}, {bytes(storage.usedBytes)} of data
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
                  {plural(s.lag.events, "event")}
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
                <td>
                  <LastError sink={s} />
                </td>
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
      {data.trackers.length === 0 && <FirstEvent />}
      <div class="table-wrap" hidden={data.trackers.length === 0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Tracker</th>
              <th scope="col">Last hour</th>
              <th scope="col">Last day</th>
              <th scope="col">Accepted</th>
              <th
                scope="col"
                title="Of the accepted, events from bots: stored, kept out of journeys"
              >
                Bots
              </th>
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
                <td>{t.bots ?? 0}</td>
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
