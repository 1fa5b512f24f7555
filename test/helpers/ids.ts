/**
 * Real-shaped IDs for property tests: what clients send as account, tracker and instance IDs
 * (integers up to 18 digits, UUIDs in any case, IDs at the length limit, any Unicode with NUL,
 * the Big List of Naughty Strings). Unpaired surrogates are not Unicode text and are refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";

/** The Big List of Naughty Strings (test/fixtures/blns, MIT). */
export const NAUGHTY: string[] = JSON.parse(
  readFileSync(join(import.meta.dir, "../fixtures/blns/blns.json"), "utf8"),
);

/** Any UTF-16 code unit: NUL and U+FFFF included (strings with an unpaired surrogate are filtered out below). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** A path ID: a positive integer (no leading zero, up to 18 digits) or a UUID in any case. */
export const pathId = fc.oneof(
  fc.bigInt({ min: 1n, max: 999_999_999_999_999_999n }).map(String),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid(),
);

/** An instance ID as a client may send it, within `max` characters once trimmed (possibly not trimmed). */
export function instanceId(max: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.uuid(),
      fc.string({ unit: codeUnit, minLength: 1, maxLength: max }),
      fc.string({ unit: "binary", minLength: 1, maxLength: max / 2 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
      fc.constantFrom(...NAUGHTY),
      fc.integer({ min: 1, max }).map((n) => "x".repeat(n)),
      fc.constant("n".repeat(max)),
      fc.constant("é".repeat(max)),
      fc.constant("😀".repeat(max / 2)),
      fc.constant("\u0000".repeat(max)),
    )
    .filter((s) => s.trim().length > 0 && s.trim().length <= max && s.isWellFormed());
}
