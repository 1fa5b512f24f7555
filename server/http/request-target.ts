/**
 * The front door: what every request passes before it is routed. The runtime builds
 * `request.url` from the Host header and the request target; Elysia's router then takes the
 * path from `url.indexOf("/", 11)`, assuming that scheme and host are longer than 11
 * characters. With a shorter one (`Host: x`, `Host: app` through a proxy) it skips part of the
 * path: `http://x/xx/admin/api/registry` is routed as `/admin/api/registry`. So:
 *
 * - a Host that is not a host (RFC 9110 §7.2, RFC 3986 §3.2.2) is refused with 400 (HTTP/1.0
 *   may send none: such a request is routed like a short one, below);
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
 * literal, with an optional port (RFC 3986 allows it empty: `host:`). RFC 3986's reg-name also allows sub-delimiters and
 * percent-escapes; no real host uses them, and URL parsers disagree on them, so they are refused.
 */
const HOST = /^(?:[A-Za-z0-9._~-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{0,5}))?$/;

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
  const url = request.url;
  const host = request.headers.get("host");
  // HTTP/1.0 without a Host header: the runtime gives the target alone ("/admin/api/..."),
  // which the router cannot read at all. Routed again, with no host to check.
  if (url.startsWith("/")) return reroute(request, "http:", url);
  // A request made in process (app.handle) may have no Host header: its URL names the host.
  if (!validHost(host ?? url.slice(url.indexOf("//") + 2, url.indexOf("/", url.indexOf("//") + 2))))
    return errorResponse("invalid_host", [
      {
        path: "host",
        code: "invalid_value",
        message: "The Host header must be a host name or address, with an optional port.",
      },
    ]);
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1 || url.indexOf("/", ROUTER_PATH_START) === pathStart) return undefined;
  return reroute(request, url.slice(0, url.indexOf("//")), url.slice(pathStart));
}

/** The same request under ROUTING_HOST, remembering the one it came in as. */
function reroute(request: Request, scheme: string, target: string): Request {
  const routed = new Request(`${scheme}//${ROUTING_HOST}${target}`, request);
  originals.set(routed, originalRequest(request));
  return routed;
}
