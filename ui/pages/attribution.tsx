/**
 * Leads by campaign: an account's leads over a range, credited to the channels (source,
 * medium, campaign, click network) of the visits before them, under a chosen model; a chart
 * per day and the table (GET /admin/api/attribution).
 */
import { useEffect, useState } from "preact/hooks";
import { navigate, type PageProps } from "../routing.ts";
import { api, query, type AttributionAnswer } from "../api.ts";
import { AccountInput } from "../components/id-pickers.tsx";
import { useFollowUrl } from "../components/follow-url.ts";
import { ErrorLine } from "../components/status.tsx";

const MODELS: { value: AttributionAnswer["model"]; label: string }[] = [
  { value: "last_non_direct", label: "Last non-direct touch" },
  { value: "last", label: "Last touch" },
  { value: "first", label: "First touch" },
  { value: "linear", label: "Linear" },
  { value: "position", label: "Position-based (40/20/40)" },
];

/** Sources the chart names; the rest are "other". */
const CHART_SOURCES = 5;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const credit = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function defaults(params: URLSearchParams) {
  return {
    accountId: params.get("accountId") ?? "",
    from: params.get("from") ?? day(Date.now() - 30 * 86_400_000),
    to: params.get("to") ?? day(Date.now() + 86_400_000),
    model: params.get("model") ?? "last_non_direct",
    by: params.get("by") ?? "received",
  };
}

export function AttributionPage({ params }: PageProps) {
  const [form, setForm] = useState(() => defaults(params));
  const [answer, setAnswer] = useState<AttributionAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const shown = defaults(params);
  const q = query({ ...shown, accountId: params.get("accountId") });

  useFollowUrl(q, () => setForm(defaults(params)));
  useEffect(() => {
    if (!params.get("accountId")) return;
    setError(null);
    setAnswer(null);
    api<AttributionAnswer>(`/attribution${q}`).then(setAnswer, (e) =>
      setError((e as Error).message),
    );
  }, [q]);
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  return (
    <section>
      <h1>Attribution</h1>
      <p class="muted">
        Which campaigns bring leads: each lead credited to the visits before it (within the
        lookback), by the model you choose.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("attribution", { ...form, accountId: form.accountId.trim() });
        }}
      >
        <div>
          <label for="a-account">Account ID</label>
          <AccountInput
            id="a-account"
            value={form.accountId}
            onValue={(accountId) => setForm((f) => ({ ...f, accountId }))}
            required
          />
        </div>
        <div>
          <label for="a-from">From</label>
          <input id="a-from" type="date" value={form.from} onInput={set("from")} />
        </div>
        <div>
          <label for="a-to">To (exclusive)</label>
          <input id="a-to" type="date" value={form.to} onInput={set("to")} />
        </div>
        <div>
          <label for="a-model">Model</label>
          <select id="a-model" value={form.model} onChange={set("model")}>
            {MODELS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="a-by">Dates are when the lead</label>
          <select id="a-by" value={form.by} onChange={set("by")}>
            <option value="received">arrived</option>
            <option value="occurred">happened</option>
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      <ErrorLine error={error} />
      {answer && <Report answer={answer} />}
    </section>
  );
}

/** Every day of the answer's range (a time axis: days without leads too), at most a year and a day. */
function everyDay(answer: AttributionAnswer): AttributionAnswer["days"] {
  const byDay = new Map(answer.days.map((d) => [d.day, d]));
  const last = new Date(Date.parse(answer.to) - 1).toISOString().slice(0, 10); // `to` is exclusive
  const out: AttributionAnswer["days"] = [];
  for (let ms = Date.parse(answer.from.slice(0, 10)); out.length < 367; ms += 86_400_000) {
    const day = new Date(ms).toISOString().slice(0, 10);
    if (day > last) break;
    out.push(byDay.get(day) ?? { day, bySource: {} });
  }
  return out;
}

function Report({ answer }: { answer: AttributionAnswer }) {
  if (answer.leads === 0)
    return <p class="muted">No leads in this range for account {answer.accountId}.</p>;
  const top = [...new Set(answer.rows.map((r) => r.source))].slice(0, CHART_SOURCES);
  const color = (source: string) => {
    const i = top.indexOf(source);
    return i < 0 ? "var(--series-other)" : `var(--series-${i})`;
  };
  const most = Math.max(
    ...answer.days.map((d) => Object.values(d.bySource).reduce((a, b) => a + b, 0)),
  );
  const days = everyDay(answer);
  if (answer.leads === 0)
    return (
      <p class="muted">
        No leads in this range. A lead is a vendor's server event such as a submitted form or a chat
        that became a lead (Leads page); change the dates, or check the Events page for server
        events of this account.
      </p>
    );
  return (
    <>
      <p class="muted">
        {answer.leads} lead{answer.leads === 1 ? "" : "s"}, {answer.matched} matched to a visit
        within {answer.lookbackDays} days before it ·{" "}
        {MODELS.find((m) => m.value === answer.model)?.label}
      </p>
      <figure class="card chart" aria-label="Leads per day by source">
        <div class="bars">
          {days.map((d) => {
            const total = Object.values(d.bySource).reduce((a, b) => a + b, 0);
            const parts = Object.entries(d.bySource).sort(
              ([a], [b]) => (top.indexOf(a) + 1 || 99) - (top.indexOf(b) + 1 || 99),
            );
            return (
              <div
                key={d.day}
                class="bar"
                title={`${d.day}: ${credit(total)} lead${total === 1 ? "" : "s"}`}
              >
                <div class="stack-bar" style={{ height: `${(total / most) * 100}%` }}>
                  {parts.map(([source, n]) => (
                    <span
                      key={source}
                      style={{ flexGrow: n, background: color(source) }}
                      title={`${d.day} · ${source}: ${credit(n)}`}
                    />
                  ))}
                </div>
              </div>
            );
          })}
        </div>
        <figcaption class="legend">
          {days[0]?.day} to {days.at(-1)?.day}:{" "}
          {top.map((s) => (
            <span key={s} class="key">
              <i style={{ background: color(s) }} />
              {s}
            </span>
          ))}
          {answer.rows.some((r) => !top.includes(r.source)) && (
            <span class="key">
              <i style={{ background: color("") }} />
              other
            </span>
          )}
        </figcaption>
      </figure>
      <div class="table-wrap">
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Medium</th>
              <th scope="col">Campaign</th>
              <th scope="col">Ad network</th>
              <th scope="col" class="num">
                Leads
              </th>
              <th scope="col" class="num">
                Share
              </th>
            </tr>
          </thead>
          <tbody>
            {answer.rows.map((r) => (
              <tr key={`${r.source}\u0000${r.medium}\u0000${r.campaign}\u0000${r.network}`}>
                <td>
                  <strong>{r.source}</strong>
                </td>
                <td data-label="Medium">{r.medium}</td>
                <td data-label="Campaign">{r.campaign}</td>
                <td data-label="Ad network">{r.network || <span class="muted">none</span>}</td>
                <td data-label="Leads" class="num">
                  {credit(r.leads)}
                </td>
                <td data-label="Share" class="num">
                  {Math.round((r.leads / answer.leads) * 100)}%
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
