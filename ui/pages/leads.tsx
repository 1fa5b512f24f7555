/** Leads of an account over a time range with the shopper and campaign behind each, and CSV / NDJSON downloads. */
import { useEffect, useState } from "preact/hooks";
import { navigate, type PageProps } from "../routing.ts";
import { api, query, type LeadPage, type LeadRow, type LeadSummary, type Touch } from "../api.ts";
import { CRM_STATES, CrmBadge } from "../components/lead-detail.tsx";
import { JourneyLink } from "../components/journey-link.tsx";
import { AccountInput } from "../components/id-pickers.tsx";
import { useFollowUrl } from "../components/follow-url.ts";
import { ErrorLine } from "../components/status.tsx";
import { localTime } from "../format.ts";

/** Why a lead is unmatched, in the page's words (journey/leads.ts, UnmatchedReason). */
const UNMATCHED: Record<NonNullable<LeadSummary["unmatchedReason"]>, string> = {
  never_seen: "never seen on the site",
  only_shared: "linked only through shared identifiers",
  no_visits: "only other calls or leads",
  visits_after_lead: "visited only after",
  outside_lookback: "visited too long before (past the lookback)",
};

/** The leads API's page: each lead with where it was delivered. */
type LeadsAnswer = Omit<LeadPage, "leads"> & { leads: LeadRow[] };

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function Campaign({ touch }: { touch: Touch | null }) {
  if (!touch) return <span class="muted">none</span>;
  const { source, medium, campaign } = touch.utm;
  if (!source && !medium && !campaign) return <span class="url">{touch.referrer ?? "direct"}</span>;
  return (
    <span>
      {campaign ?? "(no campaign)"}{" "}
      <span class="muted">{[source, medium].filter(Boolean).join(" / ")}</span>
    </span>
  );
}

export function LeadsPage({ params }: PageProps) {
  const [accountId, setAccountId] = useState(params.get("accountId") ?? "");
  const [from, setFrom] = useState(params.get("from") ?? day(Date.now() - 30 * 86_400_000));
  const [to, setTo] = useState(params.get("to") ?? day(Date.now() + 86_400_000));
  const [by, setBy] = useState(params.get("by") ?? "received");
  const [crm, setCrm] = useState(params.get("crm") ?? "");
  const [page, setPage] = useState<LeadsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const a = params.get("accountId");
  const q = query({
    accountId: a,
    from: params.get("from"),
    to: params.get("to"),
    by: params.get("by"),
    crm: params.get("crm"),
  });

  useFollowUrl(q, () => {
    setAccountId(a ?? "");
    setFrom(params.get("from") ?? day(Date.now() - 30 * 86_400_000));
    setTo(params.get("to") ?? day(Date.now() + 86_400_000));
    setBy(params.get("by") ?? "received");
    setCrm(params.get("crm") ?? "");
  });
  useEffect(() => {
    if (!a) return;
    setError(null);
    api<LeadsAnswer>(`/leads${q}`).then(setPage, (e) => setError((e as Error).message));
  }, [q]);

  return (
    <section>
      <h1>Leads</h1>
      <p class="muted">
        Each lead from a vendor's server, with the shopper behind it and the campaign that brought
        them: the first and the last website visit before the lead.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("leads", { accountId: accountId.trim(), from, to, by, ...(crm && { crm }) });
        }}
      >
        <div>
          <label for="l-account">Account ID</label>
          <AccountInput id="l-account" value={accountId} onValue={setAccountId} required />
        </div>
        <div>
          <label for="l-from">From</label>
          <input
            id="l-from"
            type="date"
            value={from}
            onInput={(e) => setFrom(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="l-to">To (exclusive)</label>
          <input id="l-to" type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </div>
        <div>
          <label for="l-by">Dates are when the lead</label>
          <select id="l-by" value={by} onChange={(e) => setBy(e.currentTarget.value)}>
            <option value="received">arrived</option>
            <option value="occurred">happened</option>
          </select>
        </div>
        <div>
          <label for="l-crm">CRM delivery</label>
          <select id="l-crm" value={crm} onChange={(e) => setCrm(e.currentTarget.value)}>
            <option value="">any</option>
            {Object.entries(CRM_STATES).map(([state, text]) => (
              <option key={state} value={state}>
                {text}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show leads</button>
      </form>
      <ErrorLine error={error} />
      {page && (
        <>
          <div class="row">
            <p class="muted">
              {page.leads.length} lead{page.leads.length === 1 ? "" : "s"},{" "}
              {page.leads.filter((l) => l.matched).length} matched to a shopper
              {page.next && " (the first 1000 shown; the downloads hold every lead of the range)"}
            </p>
            <span>
              <a href={`/admin/api/leads.csv${q}`} download>
                Download CSV
              </a>{" "}
              ·{" "}
              <a href={`/admin/api/leads.ndjson${q}`} download>
                NDJSON
              </a>
            </span>
          </div>
          {page.leads.length === 0 ? (
            <p class="muted">
              No leads in this range. A lead is a server-side event whose action or object is
              configured as one (by default action “submit” or object “lead”).
            </p>
          ) : (
            <div class="table-wrap">
              <table class="stack">
                <thead>
                  <tr>
                    <th scope="col">Lead</th>
                    <th scope="col">Vendor · product</th>
                    <th scope="col">Shopper</th>
                    <th scope="col">First touch</th>
                    <th scope="col">Last touch</th>
                    <th scope="col">CRM</th>
                    <th scope="col">Journey</th>
                  </tr>
                </thead>
                <tbody>
                  {page.leads.map((s) => (
                    <tr key={s.lead.eventId}>
                      <td>
                        {localTime(s.lead.occurredAt)}
                        <br />
                        <strong>
                          {s.lead.action} {s.lead.object}
                        </strong>
                        {s.lead.label && <span class="muted"> “{s.lead.label}”</span>}
                      </td>
                      <td data-label="Vendor · product">
                        {s.lead.vendor} · {s.lead.product}
                      </td>
                      <td data-label="Shopper">
                        {s.matched ? (
                          <span class="badge ok">
                            {s.visitsBefore} visit{s.visitsBefore === 1 ? "" : "s"}, {s.devices}{" "}
                            device{s.devices === 1 ? "" : "s"}
                          </span>
                        ) : (
                          <span class="badge" title={UNMATCHED[s.unmatchedReason ?? "never_seen"]}>
                            unmatched: {UNMATCHED[s.unmatchedReason ?? "never_seen"]}
                          </span>
                        )}
                      </td>
                      <td data-label="First touch">
                        <Campaign touch={s.firstTouch} />
                      </td>
                      <td data-label="Last touch">
                        <Campaign touch={s.lastTouch} />
                      </td>
                      <td data-label="CRM">
                        <CrmBadge state={s.crm} />
                      </td>
                      <td data-label="Journey">
                        <JourneyLink accountId={s.lead.accountId} eventId={s.lead.eventId} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
