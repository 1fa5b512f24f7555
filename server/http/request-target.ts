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

/** Where a request's URL splits: the scheme's end ("//"), and where its path starts; null for a bare target. */
function splitUrl(url: string): { slashes: number; pathStart: number } | null {
  if (url.startsWith("/")) return null; // HTTP/1.0 without Host: the runtime gives the target alone
  const slashes = url.indexOf("//");
  return { slashes, pathStart: url.indexOf("/", slashes + 2) };
}

/**
 * A 400 for a request whose Host is not a host, or undefined. HTTP/1.0 may send no Host (its
 * URL is the bare target); a request made in process may have none (its URL names the host).
 */
export function refuseHost(request: Request): Response | undefined {
  const url = request.url;
  const split = splitUrl(url);
  if (split === null) return undefined;
  const host =
    request.headers.get("host") ??
    url.slice(split.slashes + 2, split.pathStart === -1 ? undefined : split.pathStart);
  if (validHost(host)) return undefined;
  return errorResponse("invalid_host", [
    {
      path: "host",
      code: "invalid_value",
      message: "The Host header must be a host name or address, with an optional port.",
    },
  ]);
}

/**
 * What the front door does with a request before Elysia routes it: refuse it (refuseHost),
 * route it again (the same request under an authority the router reads correctly: a short
 * host, or a bare HTTP/1.0 target), or let it through (undefined). Bun's own router reads the
 * path itself, so its routes need only refuseHost.
 */
export function frontDoor(request: Request): Response | Request | undefined {
  const refused = refuseHost(request);
  if (refused) return refused;
  const url = request.url;
  const split = splitUrl(url);
  if (split === null) return reroute(request, "http:", url);
  const { slashes, pathStart } = split;
  if (pathStart === -1 || url.indexOf("/", ROUTER_PATH_START) === pathStart) return undefined;
  return reroute(request, url.slice(0, slashes), url.slice(pathStart));
}

/** The same request under ROUTING_HOST, remembering the one it came in as. */
function reroute(request: Request, scheme: string, target: string): Request {
  const routed = new Request(`${scheme}//${ROUTING_HOST}${target}`, request);
  originals.set(routed, originalRequest(request));
  return routed;
}
