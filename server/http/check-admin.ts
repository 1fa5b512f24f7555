/**
 * The ID check: is this aid/tid pair what the registry says, is anything arriving for it,
 * and which unregistered pairs are clients actually sending (with "did you mean" suggestions).
 */
import { Type as t } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { parsePathId } from "../events/ids.ts";
import type { Registry } from "../registry/registry.ts";
import type { Store } from "../store/open-store.ts";
import { json } from "./json.ts";
import { withQuery } from "./admin-input.ts";
import { scanned } from "./admin-scan.ts";
import { NoQuery, type CheckResult, type UnregisteredPair } from "./admin.model.ts";

/** aid and tid from a pasted collect URL (any host, any query). */
export function idsFromUrl(url: string): { aid: string; tid: string } | null {
  const m = /\/collect\/([^/?#]+)\/([^/?#]+)\/event/.exec(url);
  return m ? { aid: decodeSegment(m[1]!), tid: decodeSegment(m[2]!) } : null;
}

/** A path segment's percent-escapes decoded; a malformed one ("%", "%E0%A4%A") is kept as typed, and the check says it is no ID. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const CheckQuery = t.Object({
  aid: t.Optional(t.String({ maxLength: 100 })),
  tid: t.Optional(t.String({ maxLength: 100 })),
  url: t.Optional(t.String({ maxLength: 2000 })),
});

export function checkAdminRoutes(deps: {
  registry: Registry;
  store: Pick<Store, "events" | "rejects" | "stats">;
  now: () => number;
  /** How long the scan for the pair's latest events may run (admin.queryTimeoutSeconds). */
  queryTimeoutMs: number;
}) {
  const { registry, store } = deps;
  return new Elysia({ name: "check-admin" })
    .get(
      "/check",
      withQuery(CheckQuery, (query, { request }) =>
        scanned(request, deps.queryTimeoutMs, async (budget) => {
          const fromUrl = query.url ? idsFromUrl(query.url) : null;
          const rawAid = (fromUrl?.aid ?? query.aid ?? "").trim();
          const rawTid = (fromUrl?.tid ?? query.tid ?? "").trim();
          const aid = parsePathId(rawAid);
          const tid = parsePathId(rawTid);
          const account = aid ? registry.account(aid) : undefined;
          const tracker = aid && tid ? registry.tracker(aid, tid) : undefined;
          const counters = aid && tid ? store.stats.get(aid, tid) : null;
          return json({
            aid: { raw: rawAid, valid: aid !== null, id: aid },
            tid: { raw: rawTid, valid: tid !== null, id: tid },
            account: account
              ? { registered: true, name: account.name, type: account.type }
              : { registered: false },
            tracker: tracker
              ? { registered: true, name: tracker.name, allowedOrigins: tracker.allowedOrigins }
              : {
                  registered: false,
                  registeredUnder: tid ? registry.accountsWithTracker(tid) : [],
                },
            activity:
              aid && tid
                ? {
                    ...store.stats.recent(aid, tid, deps.now()),
                    accepted: counters?.accepted ?? 0,
                    test: counters?.test ?? 0,
                    rejected: counters?.rejected ?? 0,
                    lastEventAt: counters?.lastEventAt ?? null,
                    lastRejectAt: counters?.lastRejectAt ?? null,
                  }
                : null,
            latestEvents:
              aid && tid
                ? (
                    await store.events.listPaced(
                      { accountId: aid, trackerId: tid },
                      10,
                      undefined,
                      () => budget.pace(),
                    )
                  ).events
                : [],
            latestRejects:
              aid && tid
                ? await store.rejects.listPaced({ limit: 10, accountId: aid, trackerId: tid }, () =>
                    budget.pace(),
                  )
                : [],
            suggestions: aid && tid && !tracker ? registry.suggest(aid, tid) : [],
          } satisfies CheckResult);
        }),
      ),
    )
    .get(
      "/unregistered",
      withQuery(NoQuery, () => {
        const now = deps.now();
        const pairs = store.stats
          .list()
          .filter((c) => !registry.tracker(c.accountId, c.trackerId))
          .sort((a, b) => b.accepted + b.test + b.rejected - (a.accepted + a.test + a.rejected))
          .slice(0, 100)
          .map(
            (c): UnregisteredPair => ({
              ...c,
              ...store.stats.recent(c.accountId, c.trackerId, now),
              accountRegistered: registry.account(c.accountId) !== undefined,
              suggestions: registry.suggest(c.accountId, c.trackerId),
            }),
          );
        return json({ pairs });
      }),
    );
}
