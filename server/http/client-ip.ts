/**
 * The client's address: the socket peer, or, only when that peer is a configured trusted
 * proxy, the nearest untrusted address in X-Forwarded-For (read right to left, since each
 * proxy appends the address it received from and only the trusted hops can be believed).
 */

/** How the socket peer of a request is found: runtimes differ (see server/runtime/). */
export type PeerAddress = (request: Request, server: unknown) => string | null;

interface Range {
  bits: bigint;
  prefix: number;
  width: 32 | 128;
}

function parseV4(ip: string): bigint | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(ip: string): bigint | null {
  const v4tail = ip.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  let head = ip;
  let tail: bigint | null = null;
  if (v4tail) {
    tail = parseV4(v4tail[2]!);
    if (tail === null) return null;
    head = v4tail[1] + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  let n = 0n;
  for (const g of [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return tail === null ? n : (n & ~0xffffffffn) | tail;
}

/** Parses an address into (value, width); IPv4-mapped IPv6 addresses count as IPv4. */
function parseIp(ip: string): { bits: bigint; width: 32 | 128 } | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return { bits: v4, width: 32 };
  const v6 = parseV6(ip.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { bits: v6 & 0xffffffffn, width: 32 };
  return { bits: v6, width: 128 };
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
