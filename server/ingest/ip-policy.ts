/**
 * What is kept of a client's address (`pii.ip`, or a tracker's own `ip`): matching never uses
 * it, so by default only its network is kept.
 *
 * - keep: the address as the request came (the TCP peer, or X-Forwarded-For behind a trusted
 *   proxy).
 * - truncate (the default): its /24 (IPv4) or /48 (IPv6), which still places a visit (country,
 *   often the city or the dealership's own network) but no longer one household.
 * - hash: `h:` and a keyed HMAC-SHA256 of it, under a key of the day it was received (made
 *   from that day's customer key, store/pii-keys.ts): the same address gives the same value
 *   all day, a different one the next, and none can be tested against once the day's key is
 *   dropped at pii.retentionDays.
 * - drop: nothing.
 *
 * Rate limits count the whole address in memory (ingest.ts precheck); the stored event, the
 * reject log and the logs get what the policy keeps.
 */
import { createHmac } from "node:crypto";
import type { IpPolicy } from "../config/schema.ts";
import { truncateIp } from "../events/ip-address.ts";

/** The key an address is hashed with on the day of `ms`. */
export type IpHashKey = (ms: number) => Buffer;

export function keptIp(
  ip: string | null,
  policy: IpPolicy,
  hashKey: IpHashKey,
  receivedMs: number,
): string | null {
  if (ip === null) return null;
  switch (policy) {
    case "keep":
      return ip;
    case "drop":
      return null;
    case "truncate":
      return truncateIp(ip);
    case "hash":
      return `h:${createHmac("sha256", hashKey(receivedMs)).update(ip).digest("base64url").slice(0, 22)}`;
  }
}
