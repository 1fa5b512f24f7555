/**
 * What an empty page shows: how to send the first event to this very server, with curl
 * and with the Web SDK, for a registered tracker (or example IDs to replace).
 */
import { useEffect, useState } from "preact/hooks";
import { api, type Registry } from "../api.ts";
import { shellQuote } from "../shell-quote.ts";
import { CopyButton } from "./copy-button.tsx";

/** The curl command and the Web SDK snippet for `aid`/`tid` on the server at `origin`. */
export function firstEventSnippets(origin: string, aid: string, tid: string) {
  const url = `${origin}/collect/${encodeURIComponent(aid)}/${encodeURIComponent(tid)}/event`;
  const body = JSON.stringify({
    action: "view",
    object: "vehicle",
    vendor: "Website",
    product: "VDP",
    instance_id: "first-event",
  });
  // Every value is shell-quoted: IDs come from the registry, which admins type.
  const curl = `curl -i -X POST ${shellQuote(url)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)}`;
  const js = (s: string) => JSON.stringify(s).replace(/</g, "\\u003c");
  const sdk = [
    "<script>",
    "  window.trackd = window.trackd || function () { (trackd.q = trackd.q || []).push(arguments); };",
    `  trackd('init', { endpoint: ${js(origin)}, aid: ${js(aid)}, tid: ${js(tid)} });`,
    "  trackd('track', { action: 'view', object: 'vehicle', vendor: 'Website', product: 'VDP' });",
    "</script>",
    `<script async src=${js(`${origin}/sdk.js`)}></script>`,
  ].join("\n");
  return { curl, sdk };
}

export function FirstEvent({
  heading = "No events yet: send the first one",
}: {
  heading?: string;
}) {
  const [pair, setPair] = useState<{ aid: string; tid: string; registered: boolean } | null>(null);
  useEffect(() => {
    api<Registry>("/registry").then(
      (r) => {
        const t = r.trackers[0];
        setPair(t ? { aid: t.accountId, tid: t.id, registered: true } : null);
      },
      () => setPair(null),
    );
  }, []);
  const { aid, tid } = pair ?? { aid: "1001", tid: "1" };
  const { curl, sdk } = firstEventSnippets(location.origin, aid, tid);
  return (
    <section class="card first-event" aria-label="Send the first event">
      <h2>{heading}</h2>
      <p>
        {pair?.registered ? (
          <>
            For tracker <span class="mono">{tid}</span> of account <span class="mono">{aid}</span>,
            to this server:
          </>
        ) : (
          <>
            With example IDs (account <span class="mono">1001</span>, tracker{" "}
            <span class="mono">1</span>): put in yours, or register them under Registry.
          </>
        )}
      </p>
      <div class="row">
        <h3>From a terminal or a server</h3>
        <CopyButton text={curl} label="Copy the curl command" />
      </div>
      <pre>{curl}</pre>
      <p class="muted">
        It answers <span class="mono">204</span> with the new event's ID in{" "}
        <span class="mono">X-Event-Id</span>, and the event shows here at once.
      </p>
      <div class="row">
        <h3>From a web page</h3>
        <CopyButton text={sdk} label="Copy the Web SDK snippet" />
      </div>
      <pre>{sdk}</pre>
    </section>
  );
}
