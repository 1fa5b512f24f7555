/** Log in with the admin token printed at first start (or kept in <data dir>/admin-token). */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ErrorLine } from "../components/status.tsx";

export function LoginPage({ onLogin }: { onLogin: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/login", { method: "POST", body: JSON.stringify({ token }) });
      onLogin();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="card">
        <h1>trackd admin</h1>
        <p class="muted">
          Paste the admin token trackd printed at its first start (it is also in the file
          admin-token in the data directory), or the token of a credential you were given.
        </p>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
          autofocus
        />
        <button type="submit" disabled={busy || token.trim() === ""}>
          {busy ? "Checking…" : "Log in"}
        </button>
        <ErrorLine error={error} />
      </form>
    </main>
  );
}
