/**
 * A lead's detail: its customer (the only place the page shows one: opened from the sealed
 * store when staff open it) and each delivery to a CRM. Loaded when opened, not with the list.
 */
import { useState } from "preact/hooks";
import { api, query, type CrmState, type LeadDetail } from "../api.ts";
import { localTime } from "../format.ts";
import { ErrorLine } from "./status.tsx";

export const CRM_STATES: Record<CrmState, string> = {
  delivered: "delivered to the CRM",
  failing: "CRM delivery retrying",
  refused: "refused by a CRM",
  none: "not sent to a CRM",
};

export function CrmBadge({ state }: { state: CrmState }) {
  return (
    <span class={`badge${state === "delivered" ? " ok" : state === "none" ? "" : " warn"}`}>
      {CRM_STATES[state]}
    </span>
  );
}

export function LeadDetailView({ accountId, eventId }: { accountId: string; eventId: string }) {
  const [detail, setDetail] = useState<LeadDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    if (detail) return;
    api<LeadDetail>(`/leads/${encodeURIComponent(eventId)}${query({ accountId })}`).then(
      setDetail,
      (e) => setError((e as Error).message),
    );
  };
  return (
    <details class="lead-detail" onToggle={(e) => e.currentTarget.open && load()}>
      <summary>Customer and deliveries</summary>
      <ErrorLine error={error} />
      {detail && (
        <>
          <CustomerFacts detail={detail} />
          <h4>Deliveries</h4>
          {detail.deliveries.length === 0 ? (
            <p class="muted">No CRM sink has sent this lead.</p>
          ) : (
            <ul class="deliveries">
              {detail.deliveries.map((d) => (
                <li key={d.sink}>
                  <strong>{d.sink}</strong>: {d.state}
                  {d.resend && " (as a resend)"}, {localTime(d.at)}, attempt {d.attempts}
                  {d.answer && <span class="muted mono"> · {d.answer}</span>}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </details>
  );
}

function CustomerFacts({ detail }: { detail: LeadDetail }) {
  const c = detail.customer;
  if (!c)
    return (
      <p class="muted">
        {detail.contact === "erased"
          ? "The customer's details were erased (pii.retentionDays)."
          : "This lead came without a customer."}
      </p>
    );
  const a = c.address;
  return (
    <dl class="visit-facts">
      <dt>Name</dt>
      <dd>{[c.firstName, c.lastName].filter(Boolean).join(" ") || "—"}</dd>
      {c.email && (
        <>
          <dt>E-mail</dt>
          <dd class="url">{c.email}</dd>
        </>
      )}
      {c.phone && (
        <>
          <dt>Phone</dt>
          <dd>
            {c.phone}
            {c.phoneType && <span class="muted"> ({c.phoneType})</span>}
          </dd>
        </>
      )}
      {a && (
        <>
          <dt>Address</dt>
          <dd>
            {[a.street, a.city, a.region, a.postalCode, a.country].filter(Boolean).join(", ")}
          </dd>
        </>
      )}
      {c.comments && (
        <>
          <dt>Comments</dt>
          <dd class="pre">{c.comments}</dd>
        </>
      )}
    </dl>
  );
}
