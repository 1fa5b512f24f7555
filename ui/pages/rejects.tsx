/** What was refused: when, from where, the error code and field paths, a sample of the body. */
import { useEffect, useState } from "preact/hooks";
import type { PageProps } from "../routing.ts";
import { api, query, type RejectRecord } from "../api.ts";
import { ErrorLine } from "../components/status.tsx";
import { localTime } from "../format.ts";

const PAGE = 50;

export function RejectsPage({ params }: PageProps) {
  const [code, setCode] = useState(params.get("code") ?? "");
  const [rejects, setRejects] = useState<RejectRecord[]>([]);
  const [summary, setSummary] = useState<{ total: number; byCode: Record<string, number> } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ total: number; byCode: Record<string, number> }>("/rejects/summary").then(
      setSummary,
      (e) => setError((e as Error).message),
    );
  }, []);
  const [more, setMore] = useState(false);
  /** One page of the log, newest first: the first, or the one after the last shown. */
  const page = (before?: string) =>
    api<{ rejects: RejectRecord[] }>(`/rejects${query({ code, limit: PAGE, before })}`).then(
      (r) => {
        setRejects((shown) => (before ? [...shown, ...r.rejects] : r.rejects));
        setMore(r.rejects.length === PAGE);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    void page();
  }, [code]);
  return (
    <section>
      <h1>Rejected requests</h1>
      <ErrorLine error={error} />
      {summary && (
        <div class="card">
          <p>{summary.total} kept in the reject log.</p>
          {/* biome-ignore lint/a11y/useSemanticElements: a row of toggle buttons that filter a list; a fieldset would make it a form */}
          <div class="chips" role="group" aria-label="Filter by error code">
            <button
              type="button"
              class={code === "" ? "chip on" : "chip"}
              onClick={() => setCode("")}
            >
              all
            </button>
            {Object.entries(summary.byCode)
              .sort((a, b) => b[1] - a[1])
              .map(([c, n]) => (
                <button
                  type="button"
                  class={code === c ? "chip on" : "chip"}
                  onClick={() => setCode(c)}
                  aria-pressed={code === c}
                >
                  {c} <span class="count">{n}</span>
                </button>
              ))}
          </div>
        </div>
      )}
      {rejects.length === 0 ? (
        <p class="muted">Nothing refused.</p>
      ) : (
        <ul class="rejects">
          {rejects.map((r) => (
            <li key={r.id} class="card">
              <div class="row">
                <strong class="mono">
                  {r.status} {r.code}
                </strong>
                <span class="muted">{localTime(r.at)}</span>
              </div>
              <p>
                <span class="mono">
                  {r.accountId} / {r.trackerId}
                </span>{" "}
                from {r.ip ?? "unknown address"} {r.userAgent ? `(${r.userAgent})` : ""}
              </p>
              {r.details.length > 0 && (
                <ul>
                  {r.details.map((d) => (
                    <li>
                      <span class="mono">{d.path || "(body)"}</span> {d.code}: {d.message}
                    </li>
                  ))}
                </ul>
              )}
              {r.sample && <pre class="sample">{r.sample}</pre>}
            </li>
          ))}
        </ul>
      )}
      {more && (
        <button type="button" onClick={() => page(rejects[rejects.length - 1]!.id)}>
          Older rejects
        </button>
      )}
    </section>
  );
}
