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
import type { PeerAddress } from "../http/client-ip.ts";
import { rmSync } from "node:fs";
import { type Listener, type Runtime, type ServeOptions, TRANSPORT_BODY_CAP } from "./runtime.ts";

/** Requests a request thread forwarded, and the client address it saw (serveForwarded). */
const forwardedPeers = new WeakMap<Request, string | null>();

/** The peer as Bun's server reports it (or as the request thread that forwarded it saw it); null without a server. */
const peerAddress: PeerAddress = (request, server) =>
  forwardedPeers.has(request)
    ? forwardedPeers.get(request)!
    : ((server as Server<unknown> | null)?.requestIP(request)?.address ?? null);

/** Headers a request thread adds to what it forwards: read only on the forwarded socket. */
const FORWARDED_PEER = "x-trackd-forwarded-peer";
const FORWARDED_URL = "x-trackd-forwarded-url";

/** The port the public listener took: the admin page's source-mode self-fetch goes there. */
let publicPort = 0;

/** Adds routes for Bun's own router; they take precedence over Elysia's for the same path and method. */
function addBunRoutes(app: AnyElysia, routes: Record<string, unknown>): void {
  const config = app.config as { serve?: { routes?: Record<string, unknown> } };
  config.serve = { ...config.serve, routes: { ...config.serve?.routes, ...routes } };
}

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  requestThreads: true,
  serve(app: AnyElysia, options: ServeOptions): Listener {
    // POST .../event through Bun's router: the same endpoint as Elysia's route (which
    // app.handle and the in-process tests use) without Elysia's per-request context, which
    // measured ~8 µs of the ~60 µs a request costs.
    const endpoint = collectEndpointOf(app);
    if (endpoint)
      addBunRoutes(app, {
        "/collect/:aid/:tid/event": {
          POST: (request: BunRequest<string>, server: Server<unknown>) =>
            endpoint("event", request, request.params, server),
        },
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
    if (options.port !== 0 && !options.shared)
      Bun.serve({
        hostname: options.hostname,
        port: options.port,
        reusePort: false,
        fetch: () => new Response(null),
      }).stop(true);
    let server = listen(options.port, options.tls);
    if (!options.shared) publicPort = server.port!;
    return {
      port: server.port!,
      stop: (force) => server.stop(force),
      async reloadTls(tls) {
        // Bun 1.4's server.reload() keeps the certificate it started with: a new listener is
        // started on the same port, then the old one stops accepting and finishes its requests.
        const old = server;
        server = listen(old.port!, tls);
        await old.stop(false);
      },
    };
  },
  serveForwarded(app, socketPath) {
    // A socket left by a process that was killed would make the bind fail.
    rmSync(socketPath, { force: true });
    const routes = (app.config as { serve?: { routes?: Record<string, unknown> } }).serve?.routes;
    const server = Bun.serve({
      unix: socketPath,
      development: false,
      maxRequestBodySize: TRANSPORT_BODY_CAP,
      ...(routes && { routes: routes as never }),
      fetch(forwarded) {
        const url = forwarded.headers.get(FORWARDED_URL);
        if (url === null) return new Response(null, { status: 400 });
        const peer = forwarded.headers.get(FORWARDED_PEER);
        const headers = new Headers(forwarded.headers);
        headers.delete(FORWARDED_URL);
        headers.delete(FORWARDED_PEER);
        const request = new Request(url, {
          method: forwarded.method,
          headers,
          body: forwarded.body,
          signal: forwarded.signal,
          duplex: "half",
        } as RequestInit);
        forwardedPeers.set(request, peer || null);
        return app.fetch(request);
      },
    });
    return {
      port: 0,
      stop: async (force) => {
        await server.stop(force);
        rmSync(socketPath, { force: true });
      },
      reloadTls: async () => {},
    };
  },
  async forward(request, server, socketPath) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set(FORWARDED_URL, request.url);
    headers.set(FORWARDED_PEER, peerAddress(request, server) ?? "");
    return fetch(`http://localhost${url.pathname}${url.search}`, {
      unix: socketPath,
      method: request.method,
      headers,
      body: request.body,
      signal: request.signal,
      redirect: "manual",
      // The body is streamed through; Bun leaves Content-Encoding to the client that asked.
      decompress: false,
    } as RequestInit);
  },
  withAdminPage(app) {
    // Bun's router serves the bundle and its assets, but sets no headers of our own on the
    // page (and Elysia sends a bundle as JSON once the app has an onRequest hook, which the
    // admin guard is): the bundle is served at a path nobody knows, and /admin answers with
    // its HTML and the page's security headers. The compiled binary has the built HTML at
    // hand; from source it is fetched once from that path.
    const hidden = `/admin/bundle-${crypto.randomUUID()}`;
    const built = (page as { files?: { path: string; loader: string }[] }).files?.find(
      (f) => f.loader === "html",
    )?.path;
    let html: Promise<string> | null = null;
    const pageRoute = async (_request: Request, server: Server<unknown>) => {
      html ??= built
        ? Bun.file(built).text()
        : fetch(new URL(hidden, `http://127.0.0.1:${server.port ?? publicPort}`)).then((r) =>
            r.text(),
          );
      return new Response(await html, {
        headers: { ...ADMIN_PAGE_HEADERS, "content-type": "text/html; charset=utf-8" },
      });
    };
    addBunRoutes(app, { [hidden]: page, "/admin": { GET: pageRoute } });
    return app.get("/", ({ redirect }) => redirect("/admin", 302));
  },
  peerAddress,
};
