/**
 * IP addresses as numbers: parsing IPv4 and IPv6 (IPv4-mapped IPv6 counts as IPv4), for the
 * trusted-proxy ranges (http/client-ip.ts) and for truncating a client's address before it is
 * kept (ingest/ip-policy.ts).
 */

export interface IpBits {
  bits: bigint;
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
    head = `${v4tail[1]}0:0`;
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
export function parseIp(ip: string): IpBits | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return { bits: v4, width: 32 };
  const v6 = parseV6(ip.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { bits: v6 & 0xffffffffn, width: 32 };
  return { bits: v6, width: 128 };
}

/**
 * The network an address is in, as an address: IPv4 to its /24 (`203.0.113.0`), IPv6 to its
 * /48 (`2001:db8:85a3::`), what a network operator assigns one site; null if not an address.
 */
export function truncateIp(ip: string): string | null {
  const parsed = parseIp(ip);
  if (!parsed) return null;
  if (parsed.width === 32) {
    const n = Number(parsed.bits >> 8n);
    return `${n >>> 16}.${(n >>> 8) & 255}.${n & 255}.0`;
  }
  const groups = [112n, 96n, 80n].map((shift) => ((parsed.bits >> shift) & 0xffffn).toString(16));
  // The zero groups before the "::" belong in it (RFC 5952: 2001:db8::, not 2001:db8:0::).
  while (groups.at(-1) === "0") groups.pop();
  return `${groups.join(":")}::`;
}
