/** trackd on Bun: Elysia's Bun adapter (Bun.serve with native routes), the page from Bun's HTML import. */
import type { AnyElysia } from "elysia";
import { serverPeerAddress } from "../http/client-ip.ts";
import type { Server } from "bun";
import { ADMIN_PAGE_HEADERS } from "../http/admin-page-headers.ts";
import { adminPageBundle, adminPageRoutes } from "../http/ui.ts";
import type { Listener, Runtime, ServeOptions } from "./runtime.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  serve(app: AnyElysia, options: ServeOptions): Listener {
    app.listen({
      hostname: options.hostname,
      port: options.port,
      // Bun's own cap answers 413 with an empty body: keep it far above the event limits.
      maxRequestBodySize: options.maxRequestBodySize,
      // Serve the prebuilt admin bundle, not Bun's dev server (which also prints to stdout, where the stdout sink writes).
      development: false,
      idleTimeout: options.idleTimeoutSeconds,
    });
    const server = app.server!;
    return { port: server.port!, stop: (force) => server.stop(force) };
  },
  withAdminPage(app) {
    // Bun's router serves the bundle and its assets, but sets no headers of our own on the
    // page: it is served at a path nobody knows, and /admin answers with its HTML and the
    // page's security headers. The compiled binary has the built HTML at hand; from source
    // it is fetched once from that path.
    const hidden = `/admin/bundle-${crypto.randomUUID()}`;
    const built = (adminPageBundle as { files?: { path: string; loader: string }[] }).files?.find((f) => f.loader === "html")?.path;
    let html: Promise<string> | null = null;
    const pageRoute = async (_request: Request, server: Server<unknown>) => {
      html ??= built ? Bun.file(built).text() : fetch(new URL(hidden, `http://127.0.0.1:${server.port}`)).then((r) => r.text());
      return new Response(await html, { headers: { ...ADMIN_PAGE_HEADERS, "content-type": "text/html; charset=utf-8" } });
    };
    const config = app.config as { serve?: { routes?: Record<string, unknown> } };
    config.serve = { ...config.serve, routes: { ...config.serve?.routes, [hidden]: adminPageBundle, "/admin": { GET: pageRoute } } };
    return app.use(adminPageRoutes());
  },
  peerAddress: serverPeerAddress,
};
