/**
 * Account and tracker ID inputs that offer the IDs trackd knows, so staff pick rather than
 * type: the registry's, and those seen in events (the overview's per-tracker counts), named
 * where the registry names them. A value not offered can still be typed.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Ref } from "preact";
import { api, type Overview, type Registry } from "../api.ts";

export interface KnownIds {
  accounts: { id: string; name: string | null }[];
  trackers: { accountId: string; id: string; name: string | null }[];
}

let known: Promise<KnownIds> | null = null;

/** The known IDs, read once per page load (a failed read is tried again next time). */
function loadKnown(): Promise<KnownIds> {
  known ??= Promise.all([
    api<Registry>("/registry").catch(() => null),
    api<Overview>("/overview?minutes=60").catch(() => null),
  ]).then(([registry, overview]) => {
    const accounts = new Map<string, string | null>();
    const trackers = new Map<string, KnownIds["trackers"][number]>();
    for (const a of registry?.accounts ?? []) accounts.set(a.id, a.name);
    for (const t of registry?.trackers ?? [])
      trackers.set(`${t.accountId}\u0000${t.id}`, {
        accountId: t.accountId,
        id: t.id,
        name: t.name,
      });
    // Seen in events, most recently active first.
    const seen = [...(overview?.trackers ?? [])].sort((a, b) =>
      (b.lastEventAt ?? "").localeCompare(a.lastEventAt ?? ""),
    );
    for (const t of seen) {
      if (!accounts.has(t.accountId)) accounts.set(t.accountId, t.accountName);
      const key = `${t.accountId}\u0000${t.trackerId}`;
      if (!trackers.has(key))
        trackers.set(key, { accountId: t.accountId, id: t.trackerId, name: t.trackerName });
    }
    if (!registry && !overview) known = null;
    return {
      accounts: [...accounts].map(([id, name]) => ({ id, name })),
      trackers: [...trackers.values()],
    };
  });
  return known;
}

function useKnownIds(): KnownIds | null {
  const [ids, setIds] = useState<KnownIds | null>(null);
  useEffect(() => {
    let live = true;
    void loadKnown().then((k) => live && setIds(k));
    return () => {
      live = false;
    };
  }, []);
  return ids;
}

interface IdInputProps {
  id: string;
  value: string;
  onValue: (value: string) => void;
  required?: boolean;
}

/**
 * An account ID input offering the known accounts; an empty one starts with the first of them
 * (the registry's first, else the most recently active) unless `prefill` is false.
 */
export function AccountInput({
  id,
  value,
  onValue,
  required,
  prefill = true,
}: IdInputProps & { prefill?: boolean }) {
  const ids = useKnownIds();
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // The input itself, not `value`: this render's value may be older than what was just typed.
    // Not while it has the focus either: someone is typing there, and a value put in under
    // the caret would be joined to what they type ("1001" + "1001").
    const input = field.current;
    const untouched = input?.value === "" && document.activeElement !== input;
    if (prefill && ids && untouched && ids.accounts.length > 0) onValue(ids.accounts[0]!.id);
  }, [ids]);
  return (
    <Picker
      field={field}
      input={{ id, value, onValue, required }}
      options={(ids?.accounts ?? []).map((a) => ({
        key: a.id,
        value: a.id,
        text: a.name ?? "not in the registry",
      }))}
    />
  );
}

/** A tracker ID input offering the known trackers of `accountId` (all, if it is empty). */
export function TrackerInput({
  id,
  value,
  onValue,
  accountId,
}: IdInputProps & { accountId: string }) {
  const ids = useKnownIds();
  const trackers = (ids?.trackers ?? []).filter(
    (t) => accountId.trim() === "" || t.accountId === accountId.trim(),
  );
  return (
    <Picker
      input={{ id, value, onValue }}
      options={trackers.map((t) => ({
        key: `${t.accountId}\u0000${t.id}`,
        value: t.id,
        text: `${t.name ?? "not in the registry"}${accountId.trim() === "" ? ` (account ${t.accountId})` : ""}`,
      }))}
    />
  );
}

/** A text input with its datalist of options. */
function Picker({
  input: { id, value, onValue, required },
  options,
  field,
}: {
  input: IdInputProps;
  options: { key: string; value: string; text: string }[];
  field?: Ref<HTMLInputElement>;
}) {
  return (
    <>
      <input
        ref={field}
        id={id}
        list={`${id}-options`}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        required={required}
        autoComplete="off"
        spellcheck={false}
      />
      <datalist id={`${id}-options`}>
        {options.map((o) => (
          <option key={o.key} value={o.value}>
            {o.text}
          </option>
        ))}
      </datalist>
    </>
  );
}
