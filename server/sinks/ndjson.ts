/** NDJSON framing shared by the file and stdout sinks. */
import type { DeliveryItem } from "./types.ts";

/** One line per event; the stored JSON never contains a raw newline (JSON escapes them). */
export function ndjson(batch: DeliveryItem[]): string {
  let out = "";
  for (const item of batch) out += `${item.json}\n`;
  return out;
}
