/** Account/tracker IDs from the path, and the time-ordered event ID. */
import { randomFillSync } from "node:crypto";

const INTEGER_ID = /^[1-9][0-9]{0,17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * Normalizes an `aid`/`tid` path segment: a positive integer (no sign, no leading zero, at
 * most 18 digits so it fits any signed 64-bit column) or a UUID in any case, returned
 * lowercase. Returns null for anything else, including 0 and the nil UUID.
 */
export function parsePathId(raw: string): string | null {
  if (INTEGER_ID.test(raw)) return raw;
  if (raw.length === 36 && UUID.test(raw)) {
    const id = raw.toLowerCase();
    return id === NIL_UUID ? null : id;
  }
  return null;
}

/** Characters in an event ID (a UUID): the fixed tail of every tuple key that ends with one. */
export const EVENT_ID_LENGTH = 36;

/** True for a UUID of any version, in any case. */
export function isUuid(value: string): boolean {
  return value.length === 36 && UUID.test(value);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A UUIDv7 generator with its own state; `uuidv7` below is the process's one. */
export function createUuidv7(): { next(now?: number): string; seed(id: string): void } {
  const random = new Uint8Array(4096);
  let randomAt = random.length;
  let lastMs = 0;
  let sequence = 0;
  const randomBytes = (n: number): number => {
    if (randomAt + n > random.length) {
      randomFillSync(random);
      randomAt = 0;
    }
    const at = randomAt;
    randomAt += n;
    return at;
  };
  const h = (n: number) => HEX[n & 0xff]!;
  return {
    next(now = Date.now()) {
      if (now > lastMs) {
        lastMs = now;
        sequence = random[randomBytes(1)]! & 0x7f; // random start, leaving room to count
      } else if (++sequence > 0xfff) {
        lastMs++;
        sequence = 0;
      }
      const at = randomBytes(8);
      const hi = Math.floor(lastMs / 0x10000); // top 32 bits of the 48-bit timestamp
      const lo = lastMs % 0x10000;
      return (
        h(hi >>> 24) +
        h(hi >>> 16) +
        h(hi >>> 8) +
        h(hi) +
        "-" +
        h(lo >>> 8) +
        h(lo) +
        "-" +
        h(0x70 | (sequence >>> 8)) +
        h(sequence) +
        "-" +
        h(0x80 | (random[at]! & 0x3f)) +
        h(random[at + 1]!) +
        "-" +
        h(random[at + 2]!) +
        h(random[at + 3]!) +
        h(random[at + 4]!) +
        h(random[at + 5]!) +
        h(random[at + 6]!) +
        h(random[at + 7]!)
      );
    },
    seed(id) {
      const ms = uuidv7Time(id);
      if (ms >= lastMs) {
        lastMs = ms;
        sequence = 0xfff; // the next ID in this millisecond moves on to the next one
      }
    },
  };
}

const generator = createUuidv7();

/**
 * A UUIDv7 (RFC 9562). Within one millisecond the 12-bit rand_a field is a counter (the
 * RFC's method 1), so IDs made by this process sort strictly in creation order; if the
 * counter runs out the timestamp is advanced by one millisecond rather than repeating.
 */
export function uuidv7(now: number = Date.now()): string {
  return generator.next(now);
}

/** The creation time (ms since the epoch) encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
