/** The registry ("the Platform"): accounts, their trackers and vendors; create, edit, delete. */
import { useEffect, useState } from "preact/hooks";
import { api, type Registry } from "../api.ts";
import { ErrorLine } from "../components/status.tsx";
import { TrackerTrust } from "../components/tracker-trust.tsx";

export function RegistryPage() {
  const [reg, setReg] = useState<Registry | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api<Registry>("/registry").then(setReg, (e) => setError((e as Error).message));
  useEffect(() => {
    load();
  }, []);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const remove = (what: string, path: string) => {
    if (confirm(`Delete ${what}? This cannot be undone.`))
      void act(() => api(path, { method: "DELETE" }));
  };
  const rename = (
    what: string,
    path: string,
    current: string,
    extra: Record<string, unknown> = {},
  ) => {
    const name = prompt(`New name for ${what}`, current);
    if (name?.trim())
      void act(() =>
        api(path, { method: "PUT", body: JSON.stringify({ name: name.trim(), ...extra }) }),
      );
  };
  /** Asks for a comma-separated list (allowed origins, products) and saves it with `save`. */
  const editList = (question: string, current: string[], save: (list: string[]) => unknown) => {
    const answer = prompt(question, current.join(", "));
    if (answer === null) return;
    const list = answer
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
    void act(async () => save(list));
  };
  if (!reg) return <ErrorLine error={error} />;
  return (
    <section>
      <h1>Registry</h1>
      <ErrorLine error={error} />
      <h2>Accounts and trackers</h2>
      <AddForm
        legend="Add an account"
        fields={[
          ["id", "Account ID"],
          ["name", "Name"],
        ]}
        select={["type", "Type", ["dealership", "vendor"]]}
        onAdd={(v) =>
          act(() =>
            api(`/registry/accounts/${encodeURIComponent(v.id!)}`, {
              method: "PUT",
              body: JSON.stringify({ name: v.name, type: v.type }),
            }),
          )
        }
      />
      <AddForm
        legend="Add a tracker"
        fields={[
          ["accountId", "Account ID"],
          ["id", "Tracker ID"],
          ["name", "Name"],
          ["origins", "Allowed origins (comma-separated)"],
        ]}
        onAdd={(v) =>
          act(() =>
            api(
              `/registry/trackers/${encodeURIComponent(v.accountId!)}/${encodeURIComponent(v.id!)}`,
              {
                method: "PUT",
                body: JSON.stringify({
                  name: v.name,
                  allowedOrigins: (v.origins ?? "")
                    .split(",")
                    .map((o) => o.trim())
                    .filter(Boolean),
                }),
              },
            ),
          )
        }
      />
      {reg.accounts.length === 0 && (
        <p class="muted">
          No accounts yet. Add the dealership's account above (its ID is the aid in its collect
          URLs), then its trackers. Events for IDs not in the registry are still stored, and the
          Check IDs page lists them.
        </p>
      )}
      {reg.accounts.map((a) => (
        <AccountCard
          key={a.id}
          account={a}
          trackers={reg.trackers.filter((t) => t.accountId === a.id)}
          actions={{ act, rename, remove, editList }}
        />
      ))}
      <h2>Vendors</h2>
      <AddForm
        legend="Add a vendor"
        fields={[
          ["name", "Vendor name"],
          ["products", "Products (comma-separated)"],
        ]}
        onAdd={(v) =>
          act(() =>
            api(`/registry/vendors/${encodeURIComponent(v.name!)}`, {
              method: "PUT",
              body: JSON.stringify({
                products: (v.products ?? "")
                  .split(",")
                  .map((p) => p.trim())
                  .filter(Boolean),
              }),
            }),
          )
        }
      />
      {reg.vendors.length === 0 && (
        <p class="muted">
          No vendors yet. Vendors named here, with their products, are marked as known in each event
          (<code>registry.vendor</code>).
        </p>
      )}
      <ul>
        {reg.vendors.map((v) => (
          <li key={v.name}>
            {v.name} <span class="muted">{v.products.join(", ")}</span>{" "}
            <button
              type="button"
              class="small"
              onClick={() =>
                editList(`Products of ${v.name}, comma-separated`, v.products, (products) =>
                  api(`/registry/vendors/${encodeURIComponent(v.name)}`, {
                    method: "PUT",
                    body: JSON.stringify({ products }),
                  }),
                )
              }
            >
              Edit products
            </button>
            <button
              type="button"
              class="small danger"
              onClick={() =>
                remove(`vendor ${v.name}`, `/registry/vendors/${encodeURIComponent(v.name)}`)
              }
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** What the page does to an entry: each asks (confirm, prompt) and saves, then reloads. */
interface Actions {
  act: (fn: () => Promise<unknown>) => Promise<void>;
  rename: (what: string, path: string, current: string, extra?: Record<string, unknown>) => void;
  remove: (what: string, path: string) => void;
  editList: (question: string, current: string[], save: (list: string[]) => unknown) => void;
}

/** One account with its trackers, and their buttons. */
function AccountCard({
  account: a,
  trackers,
  actions: { act, rename, remove, editList },
}: {
  account: Registry["accounts"][number];
  trackers: Registry["trackers"];
  actions: Actions;
}) {
  return (
    <div class="card">
      <div class="row">
        <h3>
          <span class="mono">{a.id}</span> {a.name} <span class="tag">{a.type}</span>
        </h3>
        <span>
          <button
            type="button"
            class="small"
            onClick={() =>
              rename(`account ${a.id}`, `/registry/accounts/${encodeURIComponent(a.id)}`, a.name, {
                type: a.type,
              })
            }
          >
            Rename
          </button>
          <button
            type="button"
            class="small"
            onClick={() =>
              editList(
                `Placeholder values of account ${a.id} that never link shoppers (a staff email, the showroom's phone, a user ID like guest), comma-separated`,
                a.junkIdentifiers ?? [],
                (junkIdentifiers) =>
                  api(`/registry/accounts/${encodeURIComponent(a.id)}`, {
                    method: "PUT",
                    body: JSON.stringify({ name: a.name, type: a.type, junkIdentifiers }),
                  }),
              )
            }
          >
            Placeholders
          </button>
          <button
            type="button"
            class="small danger"
            onClick={() =>
              remove(
                `account ${a.id} (${a.name}) and its trackers`,
                `/registry/accounts/${encodeURIComponent(a.id)}`,
              )
            }
          >
            Delete
          </button>
        </span>
      </div>
      {(a.junkIdentifiers ?? []).length > 0 && (
        <p class="muted">
          Never link shoppers: <span class="mono">{a.junkIdentifiers!.join(", ")}</span>
        </p>
      )}
      <ul>
        {trackers.map((t) => (
          <li key={t.id}>
            tracker <span class="mono">{t.id}</span> {t.name}{" "}
            {t.allowedOrigins.length > 0 && (
              <span class="muted">({t.allowedOrigins.join(", ")})</span>
            )}{" "}
            <button
              type="button"
              class="small"
              onClick={() =>
                rename(
                  `tracker ${t.id}`,
                  `/registry/trackers/${encodeURIComponent(a.id)}/${encodeURIComponent(t.id)}`,
                  t.name,
                  { allowedOrigins: t.allowedOrigins },
                )
              }
            >
              Rename
            </button>
            <button
              type="button"
              class="small"
              onClick={() =>
                editList(
                  `Origins tracker ${t.id} accepts browser events from, comma-separated (empty: any)`,
                  t.allowedOrigins,
                  (allowedOrigins) =>
                    api(
                      `/registry/trackers/${encodeURIComponent(a.id)}/${encodeURIComponent(t.id)}`,
                      {
                        method: "PUT",
                        body: JSON.stringify({ name: t.name, allowedOrigins }),
                      },
                    ),
                )
              }
            >
              Edit origins
            </button>
            <button
              type="button"
              class="small danger"
              onClick={() =>
                remove(
                  `tracker ${t.id} (${t.name})`,
                  `/registry/trackers/${encodeURIComponent(a.id)}/${encodeURIComponent(t.id)}`,
                )
              }
            >
              Delete
            </button>
            <TrackerTrust tracker={t} act={act} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function AddForm({
  legend,
  fields,
  select,
  onAdd,
}: {
  legend: string;
  fields: [string, string][];
  select?: [string, string, string[]];
  onAdd: (values: Record<string, string>) => Promise<unknown>;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const id = legend.toLowerCase().replace(/\W+/g, "-");
  return (
    <form
      class="card form-row"
      onSubmit={async (e) => {
        e.preventDefault();
        await onAdd({ ...(select ? { [select[0]]: select[2][0]! } : {}), ...values });
        setValues({});
      }}
    >
      <fieldset>
        <legend>{legend}</legend>
        {fields.map(([key, label]) => (
          <div>
            <label for={`${id}-${key}`}>{label}</label>
            <input
              id={`${id}-${key}`}
              value={values[key] ?? ""}
              onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
              required={!label.includes("comma")}
            />
          </div>
        ))}
        {select && (
          <div>
            <label for={`${id}-${select[0]}`}>{select[1]}</label>
            <select
              id={`${id}-${select[0]}`}
              value={values[select[0]] ?? select[2][0]}
              onChange={(e) => setValues({ ...values, [select[0]]: e.currentTarget.value })}
            >
              {select[2].map((o) => (
                <option value={o}>{o}</option>
              ))}
            </select>
          </div>
        )}
        <button type="submit">Add</button>
      </fieldset>
    </form>
  );
}
