/** trackd on Bun: Elysia's Bun adapter (Bun.serve with native routes), the page from Bun's HTML import. */
import type { AnyElysia } from "elysia";
import { serverPeerAddress } from "../http/client-ip.ts";
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
    // The page and its assets are served by Bun's router, beside the app's native routes.
    const config = app.config as { serve?: { routes?: Record<string, unknown> } };
    config.serve = { ...config.serve, routes: { ...config.serve?.routes, "/admin": adminPageBundle } };
    return app.use(adminPageRoutes());
  },
  peerAddress: serverPeerAddress,
};
