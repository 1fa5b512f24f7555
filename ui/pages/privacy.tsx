/**
 * Privacy (the owner's): a shopper's request to be forgotten. The identifiers they gave, in
 * one account or every one; first what would go (a dry run), then the erasure; and the audit
 * of past erasures, which names no identifier.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { AccountInput } from "../components/id-pickers.tsx";
import { ErrorLine } from "../components/status.tsx";
import { localTime, plural } from "../format.ts";
import type { ErasureAudit, ErasureCounts } from "../../server/store/erasures.ts";
import type { ErasureResult } from "../../server/journey/erasure.ts";

const FIELDS = [
  ["email", "E-mail"],
  ["phone", "Phone"],
  ["userId", "User ID"],
  ["deviceId", "Device ID"],
  ["instanceId", "Instance ID (a chat or lead ID)"],
  ["emailSha256", "E-mail's SHA-256"],
  ["phoneSha256", "Phone's SHA-256"],
] as const;

type Field = (typeof FIELDS)[number][0];

const COUNTS: [keyof ErasureCounts, string][] = [
  ["events", "Events"],
  ["links", "Identifier links"],
  ["visits", "Visits"],
  ["customers", "Customer records"],
  ["leadDeliveries", "CRM delivery records"],
  ["deadLetters", "Dead letters"],
  ["rejects", "Rejected requests"],
  ["accessLogEntries", "Access log entries (the identifier is blanked)"],
];

export function PrivacyPage() {
  const [values, setValues] = useState<Record<Field, string>>(
    () => Object.fromEntries(FIELDS.map(([k]) => [k, ""])) as Record<Field, string>,
  );
  const [accountId, setAccountId] = useState("");
  const [every, setEvery] = useState(false);
  const [counted, setCounted] = useState<ErasureResult | null>(null);
  const [done, setDone] = useState<ErasureResult | null>(null);
  const [audit, setAudit] = useState<ErasureAudit[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const loadAudit = () =>
    api<{ erasures: ErasureAudit[] }>("/erasures").then(
      (r) => setAudit(r.erasures),
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    void loadAudit();
  }, []);

  const request = (dryRun: boolean) => ({
    identifiers: Object.fromEntries(
      FIELDS.map(([k]) => [k, values[k].trim()]).filter(([, v]) => v !== ""),
    ),
    accountId: every ? null : accountId.trim(),
    dryRun,
  });
  const send = async (dryRun: boolean) => {
    setError(null);
    setBusy(true);
    try {
      const result = await api<ErasureResult>("/erasure", {
        method: "POST",
        body: JSON.stringify(request(dryRun)),
      });
      if (dryRun) setCounted(result);
      else {
        setCounted(null);
        setDone(result);
        setValues(Object.fromEntries(FIELDS.map(([k]) => [k, ""])) as Record<Field, string>);
        await loadAudit();
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const change = (k: Field, v: string) => {
    setValues({ ...values, [k]: v });
    setCounted(null); // a count is for the identifiers it was made with
  };

  return (
    <section>
      <h1>Privacy</h1>
      <p class="muted">
        A shopper asked to be forgotten: give what they gave you. trackd finds everything linked to
        it (their visits on every device, their chats and leads), deletes it, and keeps later events
        with these identifiers from linking again. Count first: nothing changes until you erase.
      </p>
      <form
        class="card form-row"
        onSubmit={(e) => {
          e.preventDefault();
          void send(true);
        }}
      >
        <div>
          <label for="p-account">Account ID</label>
          <AccountInput
            id="p-account"
            value={every ? "" : accountId}
            onValue={(v) => {
              setAccountId(v);
              setCounted(null);
            }}
            required={!every}
          />
          <label class="inline">
            <input
              type="checkbox"
              checked={every}
              onChange={(e) => {
                setEvery(e.currentTarget.checked);
                setCounted(null);
              }}
            />{" "}
            Every account
          </label>
        </div>
        {FIELDS.map(([k, label]) => (
          <div key={k} class={k.endsWith("Sha256") || k === "instanceId" ? "wide" : undefined}>
            <label for={`p-${k}`}>{label}</label>
            <input
              id={`p-${k}`}
              value={values[k]}
              onInput={(e) => change(k, e.currentTarget.value)}
              autoComplete="off"
              spellcheck={false}
            />
          </div>
        ))}
        <button type="submit" disabled={busy}>
          Count what would go
        </button>
      </form>
      <ErrorLine error={error} />
      {counted && (
        <section class="card" aria-label="What would go">
          <h2>What would go</h2>
          <CountsTable counts={counted.counts} />
          <p>
            {plural(counted.suppressed, "identifier")} would be suppressed: later events carrying
            them link to nothing and keep no customer.
            {counted.truncated &&
              " The search stopped at the journey's bounds: more may be linked than this finds."}
          </p>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => {
              const where = every ? "every account" : `account ${accountId.trim()}`;
              if (confirm(`Erase this shopper from ${where}? This cannot be undone.`))
                void send(false);
            }}
          >
            Erase
          </button>
        </section>
      )}
      {done && (
        <p class="secret-made" role="status">
          Erased: {plural(done.counts.events, "event")} and{" "}
          {plural(done.counts.customers, "customer record")},{" "}
          {plural(done.suppressed, "identifier")} suppressed. Operation{" "}
          <code class="mono">{done.operationId}</code>; every sink gets an erasure record naming the
          deleted events.
        </p>
      )}
      <h2>Erasures</h2>
      <p class="muted">
        Who erased, when and what kinds of identifier: never the identifiers themselves. Backups
        taken before an erasure still hold the shopper: see the operations guide.
      </p>
      {audit && audit.length === 0 && <p class="muted">No erasures yet.</p>}
      {audit && audit.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Accounts</th>
                <th>Identifiers</th>
                <th>Erased</th>
                <th>Operation</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((a) => (
                <tr key={a.operationId}>
                  <td>{localTime(a.at)}</td>
                  <td>{a.by.name}</td>
                  <td class="mono">{a.accounts ? a.accounts.join(", ") : "every account"}</td>
                  <td>{a.kinds.join(", ")}</td>
                  <td>
                    {plural(a.counts.events, "event")}, {plural(a.counts.customers, "customer")}
                  </td>
                  <td class="mono wrap">{a.operationId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CountsTable({ counts }: { counts: ErasureCounts }) {
  return (
    <table>
      <tbody>
        {COUNTS.map(([k, label]) => (
          <tr key={k}>
            <th scope="row">{label}</th>
            <td>{counts[k]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
