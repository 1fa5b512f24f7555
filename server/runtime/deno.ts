/**
 * trackd on Deno: Deno.serve with the app's web-standard fetch, and the admin page from the
 * bundle `npm run build:ui` writes to dist/ui (embedded by `deno compile --include dist/ui`).
 */
import { readFileSync } from "node:fs";
import { Elysia, type AnyElysia } from "elysia";
import { collectEndpointOf } from "../app.ts";
import { ADMIN_PAGE_HEADERS } from "../http/admin-page-headers.ts";
import { sdkResponse } from "../http/sdk.ts";
import type { Listener, Runtime, ServeOptions } from "./runtime.ts";

/** The part of Deno's API used here (the project is type-checked against Bun's types). */
declare const Deno: {
  version: { deno: string };
  serve(
    options: {
      hostname: string;
      port: number;
      onListen: () => void;
      cert?: string;
      key?: string;
      reusePort?: boolean;
    },
    handler: (
      request: Request,
      info: { remoteAddr: { hostname: string } },
    ) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  openSync(
    path: string,
    options: { read: boolean; write: boolean; create: boolean; mode: number },
  ): { tryLockSync(exclusive: boolean): boolean };
};

/** The peer address of each request being served (Deno passes it beside the request, not on it). */
const peers = new WeakMap<Request, string>();

const UI_DIR = new URL("../../dist/ui/", import.meta.url);
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};

function uiFile(name: string): Response {
  // Asset names are the bundler's (letters, digits, dashes, one dot): nothing else is read.
  if (!/^[\w-]+\.\w+$/.test(name)) return new Response("not found", { status: 404 });
  try {
    const body = readFileSync(new URL(name, UI_DIR));
    const cache = name === "index.html" ? "no-cache" : "public, max-age=31536000, immutable";
    const headers = {
      "content-type": TYPES[name.split(".").pop()!] ?? "application/octet-stream",
      "cache-control": cache,
      "x-content-type-options": "nosniff",
    };
    return new Response(body, {
      headers: name === "index.html" ? { ...ADMIN_PAGE_HEADERS, ...headers } : headers,
    });
  } catch {
    return new Response(
      name === "index.html" ? "The admin page is not built: run npm run build:ui" : "not found",
      { status: 404 },
    );
  }
}

export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  serve(app: AnyElysia, options: ServeOptions): Listener {
    // /sdk.js beside the collect routes, from the bundle build-ui.ts writes (dist/ui/sdk.js).
    if (collectEndpointOf(app))
      app.get("/sdk.js", ({ request }) => {
        try {
          return sdkResponse(readFileSync(new URL("sdk.js", UI_DIR), "utf8"), request);
        } catch {
          return new Response("The Web SDK is not built: run npm run build:ui", { status: 404 });
        }
      });
    // Deno.serve has no per-connection idle timeout or transport body cap to set: read-body.ts
    // caps every body it reads, and Deno closes idle keep-alive connections itself.
    const listen = (port: number, tls: ServeOptions["tls"], reusePort: boolean) =>
      Deno.serve(
        { hostname: options.hostname, port, onListen: () => {}, reusePort, ...tls },
        (request, info) => {
          peers.set(request, info.remoteAddr.hostname);
          return app.fetch(request);
        },
      );
    let server = listen(options.port, options.tls, false);
    return {
      port: server.addr.port,
      stop: () => server.shutdown(),
      async reloadTls(tls) {
        // The old listener has no SO_REUSEPORT (a taken port must fail at start), so it stops
        // first: connections are refused for the moment between the two.
        const old = server;
        await old.shutdown();
        server = listen(old.addr.port, tls, false);
      },
    };
  },
  withAdminPage: (app) =>
    app.use(
      new Elysia({ name: "admin-page" })
        .get("/admin", () => uiFile("index.html"))
        .get("/admin/assets/:file", ({ params }) => uiFile(params.file))
        .get("/", ({ redirect }) => redirect("/admin", 302)),
    ),
  peerAddress: (request) => peers.get(request) ?? null,
  // Deno's own lock (flock on Unix, LockFileEx on Windows); the file stays open for good.
  tryLock: (path) =>
    Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 }).tryLockSync(true),
};
