/**
 * A tracker's trust settings, on the Registry page: how its server events must prove their
 * sender (serverAuth), what becomes of those that do not, its secrets (made here and shown
 * once, retired here; two can be live during a rotation), and what is kept of its clients'
 * addresses (ip).
 */
import { useState } from "preact/hooks";
import { api, type Registry } from "../api.ts";
import { localTime, timeAgo } from "../format.ts";
import { CopyButton } from "./copy-button.tsx";

type TrackerRow = Registry["trackers"][number];

export function TrackerTrust({
  tracker: t,
  act,
}: {
  tracker: TrackerRow;
  act: (fn: () => Promise<unknown>) => Promise<void>;
}) {
  const [made, setMade] = useState<{ id: string; secret: string } | null>(null);
  const base = `/registry/trackers/${encodeURIComponent(t.accountId)}/${encodeURIComponent(t.id)}`;
  const save = (settings: Record<string, string>) =>
    act(() =>
      api(base, {
        method: "PUT",
        body: JSON.stringify({ name: t.name, allowedOrigins: t.allowedOrigins, ...settings }),
      }),
    );
  const mode = t.serverAuth ?? "none";
  return (
    <div class="tracker-trust">
      <label>
        Server events{" "}
        <select
          value={mode}
          onChange={(e) => void save({ serverAuth: e.currentTarget.value })}
          aria-label={`How tracker ${t.id}'s server events prove their sender`}
        >
          <option value="none">need no proof</option>
          <option value="hmac">must be signed (HMAC)</option>
          <option value="bearer">must carry a secret</option>
        </select>
      </label>{" "}
      {mode !== "none" && (
        <label>
          otherwise{" "}
          <select
            value={t.unverified ?? "refuse"}
            onChange={(e) => void save({ unverified: e.currentTarget.value })}
            aria-label={`What becomes of tracker ${t.id}'s unproven server events`}
          >
            <option value="refuse">refused (401)</option>
            <option value="flag">kept as unverified, never leads</option>
          </select>
        </label>
      )}
      <label>
        Client addresses{" "}
        <select
          value={t.ip ?? "default"}
          onChange={(e) => void save({ ip: e.currentTarget.value })}
          aria-label={`What tracker ${t.id} keeps of its clients' addresses`}
        >
          <option value="default">as the server's pii.ip</option>
          <option value="truncate">network only (/24, /48)</option>
          <option value="hash">hashed, per day</option>
          <option value="drop">not kept</option>
          <option value="keep">kept whole</option>
        </select>
      </label>
      <ul class="secrets">
        {t.secrets.map((s) => (
          <li key={s.id}>
            secret <span class="mono">{s.id}</span> made {localTime(s.createdAt)}, last used{" "}
            {timeAgo(s.lastUsedAt)}
            {!s.usable && <span class="tag warn">its key file is missing: retire it</span>}{" "}
            <button
              type="button"
              class="small danger"
              onClick={() => {
                if (confirm(`Retire secret ${s.id}? Senders still using it will be refused.`))
                  void act(() => api(`${base}/secrets/${s.id}`, { method: "DELETE" }));
              }}
            >
              Retire
            </button>
          </li>
        ))}
      </ul>
      {t.secrets.length < 2 && (
        <button
          type="button"
          class="small"
          onClick={() =>
            void act(async () =>
              setMade(
                await api<{ id: string; secret: string }>(`${base}/secrets`, { method: "POST" }),
              ),
            )
          }
        >
          {t.secrets.length === 0 ? "Make a secret" : "Make a second secret (rotation)"}
        </button>
      )}
      {made && (
        <p class="secret-made" role="status">
          Secret <span class="mono">{made.id}</span>: <code class="mono secret">{made.secret}</code>{" "}
          <CopyButton text={made.secret} /> Give it to the sender now: it is not shown again.{" "}
          <button type="button" class="small" onClick={() => setMade(null)}>
            Done
          </button>
        </p>
      )}
    </div>
  );
}
