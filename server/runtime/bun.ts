/**
 * trackd on Bun: Elysia's Bun adapter (Bun.serve), with the collect POST route served by Bun's
 * router directly, the admin page from Bun's HTML import, and the peer address from
 * `server.requestIP`. Everything Bun-specific at run time is here.
 */
import type { AnyElysia } from "elysia";
import type { BunRequest, Server } from "bun";
import page from "../../ui/index.html";
import { collectEndpointOf } from "../app.ts";
import { ADMIN_PAGE_HEADERS } from "../http/admin-page-headers.ts";
import { errorResponse } from "../errors.ts";
import type { PeerAddress } from "../http/client-ip.ts";
import { refuseHost } from "../http/request-target.ts";
import { sdkResponse } from "../http/sdk.ts";
import { dlopen, FFIType } from "bun:ffi";
import { openSync } from "node:fs";
import type { Listener, Runtime, ServeOptions } from "./runtime.ts";

/** The peer as Bun's server reports it; null without a server. */
const peerAddress: PeerAddress = (request, server) =>
  (server as Server<unknown> | null)?.requestIP(request)?.address ?? null;

/** The compiled binary's built page (its HTML file), or undefined from source. */
const builtPage = () =>
  (page as { files?: { path: string; loader: string }[] }).files?.find((f) => f.loader === "html")
    ?.path;

/** The admin page built in memory, from source: its HTML and its assets by name. */
let sourcePage: Promise<{ html: string; assets: Map<string, Blob> }> | null = null;

/**
 * From source, Bun's HTML import bundles the page separately for each server, on the first
 * request for it, and serves its assets only from then on; with admin.port the page is
 * served by two servers, so it is built once here, with its assets under /admin/assets/
 * (as build-ui.ts builds it for Deno).
 */
function buildSourcePage(): Promise<{ html: string; assets: Map<string, Blob> }> {
  sourcePage ??= Bun.build({
    entrypoints: [new URL("../../ui/index.html", import.meta.url).pathname],
    minify: true,
    publicPath: "/admin/assets/",
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  }).then(async (result) => {
    if (!result.success) throw new AggregateError(result.logs, "the admin page did not build");
    const assets = new Map<string, Blob>();
    let html = "";
    for (const output of result.outputs) {
      const name = output.path.replace(/^\.\//, "");
      if (name === "index.html") html = await output.text();
      else assets.set(name, output);
    }
    return { html, assets };
  });
  return sourcePage;
}

// biome-ignore lint/suspicious/noExplicitAny: Bun's route handlers take (request, server) of its own types
type BunHandler = (request: any, server: Server<unknown>) => Response | Promise<Response>;

/**
 * A handler of Bun's router behind the front door's Host check (request-target.ts), as Elysia's
 * routes are. Bun's router reads the path itself, so nothing here needs re-routing.
 */
const behindFrontDoor =
  (handler: BunHandler): BunHandler =>
  (request, server) =>
    refuseHost(request) ?? handler(request, server);

/** Headers of the admin page's scripts and styles: named by their hash, so cached for good. */
const assetHeaders = (contentType: string) => ({
  "content-type": contentType,
  "cache-control": "public, max-age=31536000, immutable",
  "x-content-type-options": "nosniff",
});

/**
 * The compiled page's scripts and styles, each at the root path its HTML names, served from
 * the binary with assetHeaders (Bun's own route for an HTML import sets no nosniff).
 */
function builtAssetRoutes(): Record<string, Record<string, BunHandler>> {
  const files =
    (page as { files?: { path: string; loader: string; headers?: Record<string, string> }[] })
      .files ?? [];
  const routes: Record<string, Record<string, BunHandler>> = {};
  for (const file of files) {
    if (file.loader === "html") continue;
    const name = file.path.slice(file.path.lastIndexOf("/") + 1);
    const type = file.headers?.["content-type"] ?? Bun.file(file.path).type;
    routes[`/${name}`] = {
      GET: () => new Response(Bun.file(file.path), { headers: assetHeaders(type) }),
    };
  }
  return routes;
}

/** Adds routes for Bun's own router; they take precedence over Elysia's for the same path and method. */
function addBunRoutes(app: AnyElysia, routes: Record<string, Record<string, BunHandler>>): void {
  const config = app.config as { serve?: { routes?: Record<string, unknown> } };
  const guarded: Record<string, Record<string, BunHandler>> = {};
  for (const [path, methods] of Object.entries(routes)) {
    guarded[path] = {};
    for (const [method, handler] of Object.entries(methods))
      guarded[path][method] = behindFrontDoor(handler);
  }
  config.serve = { ...config.serve, routes: { ...config.serve?.routes, ...guarded } };
}

/** flock(2) through Bun's FFI (Node's fs has no file locks); null on Windows. */
function tryLock(path: string): boolean | null {
  if (process.platform === "win32") return null;
  const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  });
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  // The descriptor stays open for the process's life: closing it would drop the lock.
  const fd = openSync(path, "a+", 0o600);
  return libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0;
}

/** The Web SDK's script: put in the binary by the build (define), else bundled once from source. */
declare const TRACKD_SDK: string | undefined;
let sdk: Promise<string> | null = null;
const sdkScript = (): Promise<string> =>
  (sdk ??=
    typeof TRACKD_SDK === "string"
      ? Promise.resolve(TRACKD_SDK)
      : import("../../scripts/sdk.ts").then((m) => m.buildSdk()));

/** A response that asks the client to close the connection after it. */
async function closing(response: Response | Promise<Response>): Promise<Response> {
  const r = await response;
  const headers = new Headers(r.headers);
  headers.set("connection", "close");
  return new Response(r.body, { status: r.status, statusText: r.statusText, headers });
}

/** From now on the server answers every request (Elysia's and Bun's routes) with Connection: close. */
function closeAfterEach(server: Server<unknown>, app: AnyElysia): void {
  const routes = (app.config as { serve?: { routes?: Record<string, Record<string, BunHandler>> } })
    .serve?.routes;
  const closingRoutes: Record<string, Record<string, BunHandler>> = {};
  for (const [path, methods] of Object.entries(routes ?? {})) {
    closingRoutes[path] = {};
    for (const [method, handler] of Object.entries(methods))
      closingRoutes[path][method] = (request, srv) => closing(handler(request, srv));
  }
  // (Elysia's handlers are given app.server, the new listener: requestIP knows none of the
  // retired one's requests, so their peer address is unknown for these last requests.)
  server.reload({
    fetch: (request: Request) => closing(app.fetch(request) as Promise<Response>),
    routes: closingRoutes,
  } as never);
}

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  serve(app: AnyElysia, options: ServeOptions): Listener {
    // POST .../event through Bun's router: the same endpoint as Elysia's route (which
    // app.handle and the in-process tests use) without Elysia's per-request context, which
    // measured ~8 µs of the ~60 µs a request costs. /sdk.js beside the collect routes.
    const endpoint = collectEndpointOf(app);
    if (endpoint)
      addBunRoutes(app, {
        "/collect/:aid/:tid/event": {
          POST: (request: BunRequest<string>, server: Server<unknown>) =>
            endpoint("event", request, request.params, server),
        },
        "/sdk.js": { GET: async (request: Request) => sdkResponse(await sdkScript(), request) },
      });
    const listen = (port: number, tls: ServeOptions["tls"]) => {
      app.listen({
        hostname: options.hostname,
        port,
        // Bun's own cap answers 413 with an empty body: keep it far above the event limits.
        maxRequestBodySize: options.maxRequestBodySize,
        // Serve the prebuilt admin bundle, not Bun's dev server (which also prints to stdout, where the stdout sink writes).
        development: false,
        idleTimeout: options.idleTimeoutSeconds,
        // SO_REUSEPORT (Elysia's default too) lets a certificate reload bind the new listener
        // before the old one closes, so no connection is refused in between.
        reusePort: true,
        ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
      });
      return app.server!;
    };
    // With SO_REUSEPORT a second trackd on the same port would bind too and share its
    // connections: bind once without it first, so a taken port fails as it should.
    if (options.port !== 0)
      Bun.serve({
        hostname: options.hostname,
        port: options.port,
        reusePort: false,
        fetch: () => new Response(null),
      }).stop(true);
    let server = listen(options.port, options.tls);
    const retired = new Set<Server<unknown>>();
    return {
      port: server.port!,
      async stop(force) {
        await Promise.all([server, ...retired].map((s) => s.stop(force)));
      },
      async reloadTls(tls) {
        // Bun 1.4's server.reload() keeps the certificate it started with, and stopping a
        // listener closes its idle keep-alive connections at once (a client posting on one
        // then gets no answer). So a new listener takes the port (SO_REUSEPORT) with the new
        // certificate, and the old one is retired: it answers each request of the
        // connections it has with Connection: close, and stops after idleTimeout, when any
        // connection still idle would have been closed anyway.
        const old = server;
        server = listen(old.port!, tls);
        retired.add(old);
        closeAfterEach(old, app);
        setTimeout(() => {
          retired.delete(old);
          void old.stop(false);
        }, options.idleTimeoutSeconds * 1000).unref();
      },
    };
  },
  withAdminPage(app) {
    // Bun's router serves the page and its assets, but sets no headers of our own on the page
    // (and Elysia sends a bundle as JSON once the app has an onRequest hook, which the admin
    // guard is): /admin answers with the page's HTML and its security headers. The compiled
    // binary has the page built in: its assets are served by Bun's router from the bundle,
    // routed at a path nobody knows. From source, the page is built once in memory.
    const built = builtPage();
    const pageHeaders = { ...ADMIN_PAGE_HEADERS, "content-type": "text/html; charset=utf-8" };
    if (built) {
      const html = Bun.file(built).text();
      addBunRoutes(app, {
        ...builtAssetRoutes(),
        "/admin": { GET: async () => new Response(await html, { headers: pageHeaders }) },
      });
    } else
      addBunRoutes(app, {
        "/admin": {
          GET: async () => new Response((await buildSourcePage()).html, { headers: pageHeaders }),
        },
        "/admin/assets/:name": {
          GET: async (request: BunRequest<"/admin/assets/:name">) => {
            const asset = (await buildSourcePage()).assets.get(request.params.name);
            if (!asset) return errorResponse("not_found");
            return new Response(asset, { headers: assetHeaders(asset.type) });
          },
        },
      });
    return app.get("/", ({ redirect }) => redirect("/admin", 302));
  },
  peerAddress,
  tryLock,
};
