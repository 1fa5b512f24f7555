/**
 * Every route the app registers, from its router, and the hostile spellings of a request for
 * each: what the admin gate tests send (test/integration/admin-gate.test.ts).
 */
import type { AnyElysia } from "elysia";

/** What a request that must not get in may get: refused, or no such route. */
export const REFUSED = [400, 401, 404, 405];

/**
 * Sends every route in every spelling (shapesOf) to the app in process, with `headers` (and
 * `body` for PUT and POST); the ones answered other than `refused`, one line each.
 */
export async function letInByShape(
  app: AnyElysia,
  routes: AppRoute[],
  headers: Record<string, string>,
  body?: string,
  refused: number[] = REFUSED,
): Promise<string[]> {
  const failures: string[] = [];
  for (const route of routes)
    for (const shape of shapesOf(route.path, "localhost")) {
      if (shape.host === null) continue; // a request in process has a URL with a host
      const url = shape.target.startsWith("/")
        ? `http://${shape.host}${shape.target}`
        : shape.target;
      const res = await app.handle(
        new Request(url, {
          method: route.method,
          headers: { ...headers, host: shape.host },
          ...(body !== undefined && ["PUT", "POST"].includes(route.method) && { body }),
        }),
      );
      if (!refused.includes(res.status))
        failures.push(`${route.method} ${route.pattern} as ${shape.name}: ${res.status}`);
      await res.body?.cancel();
    }
  return failures;
}

export interface AppRoute {
  method: string;
  /** The route's pattern, e.g. /admin/api/instances/:accountId/:instanceId */
  pattern: string;
  /** The pattern with each parameter filled in with a real-shaped value. */
  path: string;
}

/** A value for each path parameter name, shaped as clients send them. */
const SAMPLES: Record<string, string> = {
  id: "31338",
  accountId: "6f1c1f0e-9a55-4d5e-8d43-1c2b3a4d5e6f",
  instanceId: "chat-2f9c2a0e-7b1d-4c51-9d3f-5a8e6b7c4d21",
  eventId: "019ac2b4-6a1e-7c3d-9f10-2b8e4a6c1d77",
  name: "bypass",
  aid: "1001",
  tid: "1",
};

/** The app's routes as its router has them (app.routes), parameters filled in. */
export function appRoutes(app: AnyElysia): AppRoute[] {
  return app.routes.map((r) => ({
    method: r.method,
    pattern: r.path,
    path: r.path.replace(/:(\w+)/g, (_, name: string) => SAMPLES[name] ?? "x").replace("*", "x"),
  }));
}

/** Admin API routes that need no token: logging in and out, and asking whether one is. */
export const PUBLIC_ADMIN = new Set([
  "/admin/api/login",
  "/admin/api/logout",
  "/admin/api/session",
]);

/** One spelling of a request: the request target as sent, and the Host header (null: HTTP/1.0 without one). */
export interface Shape {
  name: string;
  target: string;
  host: string | null;
}

/**
 * The spellings of a request for `path` (an /admin/... path): the normal one, short Hosts with
 * the path padded before /admin (what routed around the gate in 0.4.0), absolute-form targets,
 * `//`, dot segments, percent-escapes, upper case, a trailing `?` or `#`, encoded slashes.
 */
export function shapesOf(path: string, host: string): Shape[] {
  const shapes: Shape[] = [{ name: "normal", target: path, host }];
  for (const short of ["x", "ab", "abc", "x:1"])
    for (let pad = 1; pad <= 4; pad++)
      shapes.push({
        name: `Host ${short}, ${pad} padding`,
        target: `/${"x".repeat(pad)}${path}`,
        host: short,
      });
  shapes.push(
    { name: "Host x, unpadded", target: path, host: "x" },
    { name: "absolute-form", target: `http://evil.example${path}`, host },
    { name: "absolute-form, short host", target: `http://x/xx${path}`, host },
    { name: "absolute-form, https", target: `https://x${path}`, host },
    { name: "double slash", target: `/${path}`, host },
    { name: "dot segment", target: path.replace("/admin", "/./admin"), host },
    { name: "dot-dot segment", target: `/x/..${path}`, host },
    { name: "escaped dot-dot", target: `/x/%2e%2e${path}`, host },
    { name: "escaped letter", target: path.replace("/admin", "/%61dmin"), host },
    { name: "escaped slashes", target: path.replaceAll("/", "%2F").replace("%2F", "/"), host },
    { name: "upper case", target: path.replace("/admin/api", "/ADMIN/API"), host },
    { name: "mixed case", target: path.replace("/admin", "/Admin"), host },
    { name: "trailing ?", target: `${path}?`, host },
    { name: "trailing #", target: `${path}#`, host },
    { name: "trailing slash", target: `${path}/`, host },
    { name: "semicolon", target: `${path};x`, host },
    { name: "HTTP/1.0 without Host", target: path, host: null },
    { name: "HTTP/1.0 without Host, padded", target: `/xxxxxxxxxx${path}`, host: null },
  );
  return shapes;
}
