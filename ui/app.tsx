/** The shell: login gate, navigation and hash routes (#/overview, #/check, #/events, ...). */
import { useEffect, useRef, useState } from "preact/hooks";
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
import { AccessPage } from "./pages/access.tsx";
import { PrivacyPage } from "./pages/privacy.tsx";
import { isOwner, setWho, type Who } from "./session.ts";

/** The pages, and who may open each: "all" accounts' pages need a credential for every account. */
const PAGES = [
  { path: "overview", label: "Overview", Page: OverviewPage, needs: "all" },
  { path: "check", label: "Check IDs", Page: CheckPage, needs: "any" },
  { path: "events", label: "Events", Page: EventsPage, needs: "any" },
  { path: "instance", label: "Instance", Page: InstancePage, needs: "any" },
  { path: "journey", label: "Journey", Page: JourneyPage, needs: "any" },
  { path: "leads", label: "Leads", Page: LeadsPage, needs: "any" },
  { path: "attribution", label: "Attribution", Page: AttributionPage, needs: "any" },
  { path: "rejects", label: "Rejected", Page: RejectsPage, needs: "all" },
  { path: "registry", label: "Registry", Page: RegistryPage, needs: "any" },
  { path: "access", label: "Access", Page: AccessPage, needs: "owner" },
  { path: "privacy", label: "Privacy", Page: PrivacyPage, needs: "owner" },
] as const;

const opens = (w: Who, needs: (typeof PAGES)[number]["needs"]) =>
  needs === "any"
    ? w.role !== "export"
    : needs === "all"
      ? w.accounts === null && w.role !== "export"
      : isOwner(w);

export function App() {
  const [auth, setAuth] = useState<"checking" | "in" | "out">("checking");
  const [me, setMe] = useState<Who | null>(null);
  const [route, setRoute] = useState(parseHash);
  const check = () =>
    api<Who>("/session").then(
      (w) => {
        setWho(w);
        setMe(w);
        setAuth("in");
      },
      () => setAuth("out"), // 401, or the API unreachable: the login form says what is wrong
    );

  useEffect(() => {
    void check();
    const onHash = () => setRoute(parseHash());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  const nav = useNavInView(route.path, auth);

  if (auth === "checking") return <p class="muted pad">Loading…</p>;
  if (auth === "out" || !me) return <LoginPage onLogin={() => void check()} />;

  const pages = PAGES.filter((p) => opens(me, p.needs));
  const current = pages.find((p) => p.path === route.path) ?? pages[0];
  const logout = async () => {
    await api("/logout", { method: "POST" });
    setAuth("out");
  };
  return (
    <div class="shell">
      <header class="top">
        <strong class="brand">trackd</strong>
        <nav aria-label="Pages" ref={nav} onScroll={() => markOverflow(nav.current)}>
          {pages.map((p) => (
            <a href={`#/${p.path}`} aria-current={p.path === current?.path ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        {!isOwner(me) && (
          <span
            class="muted who"
            title={`${me.role}${me.accounts ? `: ${me.accounts.join(", ")}` : ""}`}
          >
            {me.name} ({me.role})
          </span>
        )}
        <button type="button" class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {current ? (
          <current.Page params={route.params} />
        ) : (
          <p class="pad">
            This credential only fetches export files; it opens no page. Use it with the export URLs
            in Leads to the CRM and ad platforms.
          </p>
        )}
      </main>
    </div>
  );
}

/**
 * On a narrow screen the pages are one row that scrolls sideways: the current page's tab is
 * scrolled into view whenever the page changes (a page opened by its URL included), and the
 * row fades at an edge where more tabs are hidden.
 */
function useNavInView(path: string, auth: string) {
  const nav = useRef<HTMLElement>(null);
  useEffect(() => {
    const row = nav.current;
    if (!row) return;
    row.querySelector('a[aria-current="page"]')?.scrollIntoView({
      block: "nearest",
      inline: "center",
    });
    markOverflow(row);
    const onResize = () => markOverflow(row);
    addEventListener("resize", onResize);
    return () => removeEventListener("resize", onResize);
  }, [path, auth]);
  return nav;
}

/** Marks the navigation row with the sides where tabs are scrolled out of sight. */
function markOverflow(row: HTMLElement | null): void {
  if (!row) return;
  row.classList.toggle("more-left", row.scrollLeft > 1);
  row.classList.toggle("more-right", row.scrollLeft + row.clientWidth < row.scrollWidth - 1);
}
