/** Hash routes of the admin page ("#/events?accountId=1"), shared by the shell and the pages. */

/** What every page gets: the route's query parameters. */
export type PageProps = { params: URLSearchParams };

/** The current route: "#/events?accountId=1" -> { path: "events", params }. */
export function parseHash(): { path: string; params: URLSearchParams } {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  return { path: path || "overview", params: new URLSearchParams(search ?? "") };
}

/** Goes to a page with these query parameters. */
export function navigate(path: string, params: Record<string, string> = {}): void {
  const q = new URLSearchParams(params).toString();
  location.hash = `#/${path}${q ? `?${q}` : ""}`;
}
