/**
 * The client's address: the socket peer, or, only when that peer is a configured trusted
 * proxy, the nearest untrusted address in X-Forwarded-For (read right to left, since each
 * proxy appends the address it received from and only the trusted hops can be believed).
 */
import { type IpBits, parseIp } from "../events/ip-address.ts";

/** How the socket peer of a request is found: runtimes differ (see server/runtime/). */
export type PeerAddress = (request: Request, server: unknown) => string | null;

interface Range extends IpBits {
  prefix: number;
}

/** Parses "10.0.0.0/8", "::1" or "192.168.1.5" into a range; null if malformed. */
export function parseRange(spec: string): Range | null {
  const [addr, len] = spec.split("/");
  const ip = parseIp(addr!.trim());
  if (!ip) return null;
  const prefix = len === undefined ? ip.width : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > ip.width) return null;
  return { ...ip, prefix };
}

/** Builds the trusted-proxy test once from the configured list. */
export function trustedProxyMatcher(specs: string[]): (ip: string) => boolean {
  const ranges = specs.map(parseRange).filter((r): r is Range => r !== null);
  if (ranges.length === 0) return () => false;
  return (ip) => {
    const addr = parseIp(ip);
    if (!addr) return false;
    return ranges.some((r) => {
      if (r.width !== addr.width) return false;
      const shift = BigInt(r.width - r.prefix);
      return addr.bits >> shift === r.bits >> shift;
    });
  };
}

/** The client address given the socket peer and the X-Forwarded-For header. */
export function clientIp(
  peer: string | null,
  forwardedFor: string | null | (() => string | null),
  isTrusted: (ip: string) => boolean,
): string | null {
  if (!peer || !forwardedFor || !isTrusted(peer)) return peer;
  if (typeof forwardedFor === "function") forwardedFor = forwardedFor(); // read only when the peer is trusted
  if (!forwardedFor) return peer;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!isTrusted(hops[i]!)) return hops[i]!;
  return hops[0] ?? peer;
}
