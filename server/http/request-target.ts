/**
 * The front door: what every request passes before it is routed. The runtime builds
 * `request.url` from the Host header and the request target; Elysia's router then takes the
 * path from `url.indexOf("/", 11)`, assuming that scheme and host are longer than 11
 * characters. With a shorter one (`Host: x`, `Host: app` through a proxy) it skips part of the
 * path: `http://x/xx/admin/api/registry` is routed as `/admin/api/registry`. So:
 *
 * - a Host that is not a host (RFC 9110 §7.2, RFC 3986 §3.2.2) is refused with 400 (the
 *   runtimes refuse a request without one; one made in process is read by its URL's host);
 * - a request whose authority is too short for the router is routed again under a longer,
 *   reserved one (RFC 2606 `.invalid`), so the router reads the path the client sent. The Host
 *   header is kept as it came; nothing reads the host from the URL.
 *
 * The admin gate does not depend on this: it runs inside the routes the router matched
 * (app.ts), so whatever path the router reads, the gate is on it.
 */
import { errorResponse } from "../errors.ts";

/**
 * A DNS name or IPv4 address (letters, digits, `-`, `.`, `_`, `~`), or a bracketed IPv6
 * literal, with an optional port. RFC 3986's reg-name also allows sub-delimiters and
 * percent-escapes; no real host uses them, and URL parsers disagree on them, so they are refused.
 */
const HOST = /^(?:[A-Za-z0-9._~-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{1,5}))?$/;

/** The placeholder authority for re-routing: reserved, never resolvable, long enough for the router. */
const ROUTING_HOST = "host.invalid";

/** Where Elysia's router takes the path to start (its assumption; see above). */
const ROUTER_PATH_START = 11;

/** True if `host` (a Host header's value) is a host, with a port in range if it has one. */
export function validHost(host: string | null): boolean {
  if (host === null) return false;
  const m = HOST.exec(host);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65535);
}

/** Requests re-routed under ROUTING_HOST, and the request each came in as (for its peer address). */
const originals = new WeakMap<Request, Request>();

/** The request as it reached the runtime (the one it knows the peer of). */
export function originalRequest(request: Request): Request {
  return originals.get(request) ?? request;
}

/**
 * What the front door does with a request: refuse it (a 400 response), re-route it (the same
 * request under an authority the router reads correctly), or let it through (undefined).
 */
export function frontDoor(request: Request): Response | Request | undefined {
  // A request made in process (app.handle) may have no Host header: its URL names the host.
  const host = request.headers.get("host") ?? new URL(request.url).host;
  if (!validHost(host))
    return errorResponse("invalid_host", [
      {
        path: "host",
        code: "invalid_value",
        message: "The Host header must be a host name or address, with an optional port.",
      },
    ]);
  const url = request.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1 || url.indexOf("/", ROUTER_PATH_START) === pathStart) return undefined;
  const scheme = url.slice(0, url.indexOf("//"));
  const routed = new Request(`${scheme}//${ROUTING_HOST}${url.slice(pathStart)}`, request);
  originals.set(routed, originalRequest(request));
  return routed;
}
