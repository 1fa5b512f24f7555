/** A labelled yes/no badge and an error line. */
export function Badge({ ok, yes, no }: { ok: boolean; yes: string; no: string }) {
  return <span class={`badge ${ok ? "ok" : "bad"}`}>{ok ? `✓ ${yes}` : `✗ ${no}`}</span>;
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
