/**
 * Access (the owner's): named credentials, made (the token shown once), listed with their last
 * use and revoked; and the access log of who read shoppers' and leads' data.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { CopyButton } from "../components/copy-button.tsx";
import { ErrorLine } from "../components/status.tsx";
import { localTime, timeAgo } from "../format.ts";
import type { AdminCredentialInfo } from "../../server/store/admin-credentials.ts";
import type { AccessEntry } from "../../server/store/access-log.ts";

type Entry = AccessEntry & { id: string };

const ROLES = {
  read: "read: journeys, leads, events, attribution, exports; changes nothing",
  export: "export: the export and conversion files only",
  admin: "admin: reads and changes",
} as const;

export function AccessPage() {
  const [credentials, setCredentials] = useState<AdminCredentialInfo[] | null>(null);
  const [log, setLog] = useState<Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [made, setMade] = useState<{ name: string; token: string } | null>(null);
  const [draft, setDraft] = useState({ name: "", role: "read", accounts: "" });
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      setCredentials(await api<AdminCredentialInfo[]>("/credentials"));
      const page = await api<{ entries: Entry[]; next: string | null }>("/access-log?limit=100");
      setLog(page.entries);
      setNext(page.next);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const accounts = draft.accounts
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    try {
      const res = await api<{ name: string; token: string }>("/credentials", {
        method: "POST",
        body: JSON.stringify({
          name: draft.name,
          role: draft.role,
          accounts: accounts.length > 0 ? accounts : null,
        }),
      });
      setMade(res);
      setDraft({ name: "", role: "read", accounts: "" });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (c: AdminCredentialInfo) => {
    if (!confirm(`Revoke ${c.name}? Its token and sessions stop working at once.`)) return;
    try {
      await api(`/credentials/${c.id}`, { method: "DELETE" });
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const older = async () => {
    if (!next) return;
    const page = await api<{ entries: Entry[]; next: string | null }>(
      `/access-log?limit=100&before=${encodeURIComponent(next)}`,
    );
    setLog([...log, ...page.entries]);
    setNext(page.next);
  };

  return (
    <section>
      <h1>Access</h1>
      <ErrorLine error={error} />
      <h2>Credentials</h2>
      <p class="muted">
        Give each person, vendor or platform its own token: a role, and the accounts it sees (any
        other account is, to it, not there). Your admin token stays yours.
      </p>
      <form class="card form-row" onSubmit={create}>
        <fieldset>
          <legend>Make a credential</legend>
          <div>
            <label for="cred-name">Name</label>
            <input
              id="cred-name"
              value={draft.name}
              onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })}
              required
            />
          </div>
          <div>
            <label for="cred-role">Role</label>
            <select
              id="cred-role"
              value={draft.role}
              onChange={(e) => setDraft({ ...draft, role: e.currentTarget.value })}
            >
              {Object.entries(ROLES).map(([role, label]) => (
                <option value={role}>{label}</option>
              ))}
            </select>
          </div>
          <div>
            <label for="cred-accounts">Accounts (comma-separated; empty: every account)</label>
            <input
              id="cred-accounts"
              value={draft.accounts}
              onInput={(e) => setDraft({ ...draft, accounts: e.currentTarget.value })}
            />
          </div>
          <button type="submit">Make</button>
        </fieldset>
      </form>
      {made && (
        <p class="secret-made" role="status">
          Token of {made.name}: <code class="mono">{made.token}</code>{" "}
          <CopyButton text={made.token} /> Give it now: it is not shown again.{" "}
          <button type="button" class="small" onClick={() => setMade(null)}>
            Done
          </button>
        </p>
      )}
      {credentials && credentials.length === 0 && (
        <p class="muted">No credentials yet: only your admin token opens this page.</p>
      )}
      {credentials && credentials.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Accounts</th>
                <th>Made</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {credentials.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>{c.role}</td>
                  <td class="mono">{c.accounts ? c.accounts.join(", ") : "every account"}</td>
                  <td>{localTime(c.createdAt)}</td>
                  <td>{timeAgo(c.lastUsedAt)}</td>
                  <td>
                    <button type="button" class="small danger" onClick={() => void revoke(c)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Access log</h2>
      <p class="muted">
        Every request for events, journeys, leads, attribution and exports, newest first (including
        those refused as another account's).
      </p>
      {log.length === 0 ? (
        <p class="muted">Nothing read yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Request</th>
              </tr>
            </thead>
            <tbody>
              {log.map((e) => (
                <tr key={e.id}>
                  <td>{localTime(e.at)}</td>
                  <td>
                    {e.who.name} <span class="tag">{e.who.role}</span>
                  </td>
                  <td class="mono wrap">{e.target}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button type="button" onClick={() => void older()}>
          Older
        </button>
      )}
    </section>
  );
}
