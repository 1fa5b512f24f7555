/** The shell: login gate, navigation and hash routes (#/overview, #/check, #/events, ...). */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import { parseHash } from "./routing.ts";
import { AttributionPage } from "./pages/attribution.tsx";
import { CheckPage } from "./pages/check.tsx";
import { EventsPage } from "./pages/events.tsx";
import { InstancePage } from "./pages/instance.tsx";
import { JourneyPage } from "./pages/journey.tsx";
import { LeadsPage } from "./pages/leads.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { RegistryPage } from "./pages/registry.tsx";
import { RejectsPage } from "./pages/rejects.tsx";

const PAGES = [
  { path: "overview", label: "Overview", Page: OverviewPage },
  { path: "check", label: "Check IDs", Page: CheckPage },
  { path: "events", label: "Events", Page: EventsPage },
  { path: "instance", label: "Instance", Page: InstancePage },
  { path: "journey", label: "Journey", Page: JourneyPage },
  { path: "leads", label: "Leads", Page: LeadsPage },
  { path: "attribution", label: "Attribution", Page: AttributionPage },
  { path: "rejects", label: "Rejected", Page: RejectsPage },
  { path: "registry", label: "Registry", Page: RegistryPage },
] as const;

export function App() {
  const [auth, setAuth] = useState<"checking" | "in" | "out">("checking");
  const [route, setRoute] = useState(parseHash);

  useEffect(() => {
    api("/session").then(
      () => setAuth("in"),
      () => setAuth("out"), // 401, or the API unreachable: the login form says what is wrong
    );
    const onHash = () => setRoute(parseHash());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  if (auth === "checking") return <p class="muted pad">Loading…</p>;
  if (auth === "out") return <LoginPage onLogin={() => setAuth("in")} />;

  const current = PAGES.find((p) => p.path === route.path) ?? PAGES[0];
  const logout = async () => {
    await api("/logout", { method: "POST" });
    setAuth("out");
  };
  return (
    <div class="shell">
      <header class="top">
        <strong class="brand">trackd</strong>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a href={`#/${p.path}`} aria-current={p.path === current.path ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        <current.Page params={route.params} />
      </main>
    </div>
  );
}
