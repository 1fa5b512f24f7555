/** Builds the real app around a real LMDB store in a fresh temp directory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { createApp } from "../../server/app.ts";
import { ConfigSchema, type Config } from "../../server/config/schema.ts";
import { openStore, type Store } from "../../server/store/open-store.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { createLog } from "../../server/telemetry/log.ts";

export const ADMIN_TOKEN = "test-admin-token";
/** A shopper's browser, as its User-Agent says (a test's own fetch says "Bun/…", a bot to trackd). */
export const BROWSER_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
export const BASE = "http://localhost";

/** A complete, valid event body. */
export const validEvent = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  action: "view",
  object: "vehicle",
  vendor: "Vendor A",
  product: "Product 1",
  instance_id: "abc123",
  ...overrides,
});

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: Store;
  dir: string;
  /** The error lines logged (captured, not printed: a test asserts those it expects). */
  logs: string[];
  /** POSTs to /collect/{aid}/{tid}/event (plus `query`): objects as JSON, strings as they are; a header set to "" is left out. */
  collect(
    body: unknown,
    options?: { aid?: string; tid?: string; query?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  /** POSTs events as the Web SDK sends a batch: text/plain to /collect/{aid}/{tid}/events?sdk=. */
  sdkBatch(events: unknown[], options?: { aid?: string; tid?: string }): Promise<Response>;
  admin(path: string, token?: string): Promise<Response>;
  /** PUTs a JSON body to an admin API path, with the admin token. */
  adminPut(path: string, body: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** Config from the schema's defaults with overrides, as the loader would produce it. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return Value.Default(ConfigSchema, Value.Clone(overrides)) as Config;
}

/** Temp directories made by the tests, removed after the run (helpers/cleanup.ts): binaries and stores add up. */
export const madeDirs = new Set<string>();

export function tempDir(prefix = "trackd-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
}

export async function createTestApp(
  overrides: Record<string, unknown> = {},
  options: {
    now?: () => number;
    draining?: () => boolean;
    /** The socket peer of a request (in process there is none). */
    peerAddress?: (request: Request) => string | null;
  } = {},
): Promise<TestApp> {
  const dir = tempDir();
  const config = testConfig({ dataDir: dir, ...overrides });
  const store = openStore({
    dataDir: dir,
    durability: config.durability,
    rejectLogSize: config.rejectLogSize,
    dedupeWindowMs: config.dedupeWindowSeconds * 1000,
    accessLogKeepMs: config.admin.accessLogDays * 86_400_000,
  });
  const logs: string[] = [];
  const app = createApp({
    config,
    store,
    adminToken: ADMIN_TOKEN,
    log: createLog("error", (line) => logs.push(line)),
    ...options,
  });
  return {
    app,
    store,
    dir,
    logs,
    collect(body, { aid = "1", tid = "1", query = "", headers = {} } = {}) {
      // Strings and objects go as text; bytes as bytes (so no Content-Type is implied).
      const payload =
        body instanceof Uint8Array
          ? body
          : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
      const all = new Headers({ "content-type": "application/json", ...headers });
      for (const [name, value] of Object.entries(headers)) if (value === "") all.delete(name); // "" means: send no such header
      return app.handle(
        new Request(`${BASE}/collect/${aid}/${tid}/event${query}`, {
          method: "POST",
          headers: all,
          body: payload as Uint8Array<ArrayBuffer>,
        }),
      );
    },
    sdkBatch(events, { aid = "1", tid = "1" } = {}) {
      return app.handle(
        new Request(`${BASE}/collect/${aid}/${tid}/events?sdk=web-0.2.0`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify(events),
        }),
      );
    },
    admin(path, token = ADMIN_TOKEN) {
      return app.handle(
        new Request(`${BASE}/admin/api${path}`, { headers: { authorization: `Bearer ${token}` } }),
      );
    },
    adminPut(path, body) {
      return app.handle(
        new Request(`${BASE}/admin/api${path}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The error envelope of a response, asserting it is one. */
export async function errorOf(res: Response): Promise<{
  code: string;
  message: string;
  details: { path: string; code: string; message: string }[];
}> {
  const body = (await res.json()) as {
    error: {
      code: string;
      message: string;
      details: { path: string; code: string; message: string }[];
    };
  };
  if (!body.error) throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  return body.error;
}

/**
 * A shopper's page view landing from a Google ad (`gclid`), sent as the Web SDK sends it (from a
 * shopper's browser unless `headers` say otherwise; `query` after `?sdk=`, `fields` in the
 * body), then a vendor's lead on its instance ID, from a back end; both as stored.
 */
export async function adVisitThenLead(
  t: TestApp,
  accountId: string,
  gclid: string,
  options: {
    headers?: Record<string, string>;
    query?: string;
    fields?: Record<string, unknown>;
  } = {},
): Promise<{ view: TrackedEvent; lead: TrackedEvent }> {
  const instance = crypto.randomUUID();
  const web = "https://mainstreet.example";
  const view = await t.app.handle(
    new Request(`${BASE}/collect/${accountId}/1/event?sdk=web-test${options.query ?? ""}`, {
      method: "POST",
      headers: {
        "content-type": "text/plain",
        origin: web,
        "user-agent": BROWSER_UA,
        ...options.headers,
      },
      body: JSON.stringify(
        validEvent({
          action: "view",
          object: "page",
          instance_id: instance,
          deviceId: crypto.randomUUID(),
          visitId: crypto.randomUUID(),
          pageUrl: `${web}/used/rav4?utm_source=google&utm_medium=cpc&gclid=${gclid}`,
          ...options.fields,
        }),
      ),
    }),
  );
  const lead = await t.collect(
    validEvent({ action: "submit", object: "form", instance_id: instance }),
    { aid: accountId, headers: { "user-agent": "python-requests/2.32.3" } },
  );
  if (view.status !== 204 || lead.status !== 204)
    throw new Error(`not stored: view ${view.status}, lead ${lead.status}`);
  return {
    view: t.store.events.get(view.headers.get("x-event-id")!)!,
    lead: t.store.events.get(lead.headers.get("x-event-id")!)!,
  };
}
