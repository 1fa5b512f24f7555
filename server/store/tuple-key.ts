/**
 * Composite LMDB keys that are right for any strings, by construction. Each part is written as
 * WTF-8 (UTF-8 that also encodes lone surrogates, which JSON allows, so no two strings share
 * bytes) with every 0x00 byte escaped as 0x00 0xFF and the part ended by 0x00 0x01: the
 * order-preserving, prefix-free tuple encoding FoundationDB uses. So keys sort part by part,
 * and the keys that begin with some parts are exactly [prefix, prefix + 0xFF): no part's
 * encoding is a prefix of another's, and 0xFF never occurs in WTF-8.
 *
 * (lmdb-js's own string keys are not plain bytes: a string with NUL is stored differently
 * below and above about 64 bytes, so a range read from a shorter string prefix missed long
 * keys. That was store format 1.)
 */

const END = 0x01;
const ESCAPE = 0xff;

/** Writes `s` as escaped WTF-8 into `out` at `at`, then the part terminator; returns the new offset. */
function writePart(s: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
      if (c === 0) out[at++] = ESCAPE;
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      const next = s.charCodeAt(i + 1);
      if (c >= 0xd800 && c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[at++] = 0xf0 | (c >> 18);
        out[at++] = 0x80 | ((c >> 12) & 0x3f);
      } else out[at++] = 0xe0 | (c >> 12); // a lone surrogate too: WTF-8
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  out[at++] = 0;
  out[at++] = END;
  return at;
}

/** The key for `parts`, followed by `tail` (ASCII, written as is: an event ID). */
export function tupleKey(parts: readonly string[], tail = ""): Uint8Array {
  let max = tail.length;
  for (const p of parts) max += 3 * p.length + 2; // a UTF-16 unit is at most 3 bytes (NUL: 2)
  const out = new Uint8Array(max);
  let at = 0;
  for (const p of parts) at = writePart(p, out, at);
  for (let i = 0; i < tail.length; i++) out[at++] = tail.charCodeAt(i);
  return out.subarray(0, at);
}

/** Every key that begins with `parts`, as an LMDB range (`end` is exclusive). */
export function tupleRange(parts: readonly string[]): { start: Uint8Array; end: Uint8Array } {
  const start = tupleKey(parts);
  const end = new Uint8Array(start.length + 1);
  end.set(start);
  end[start.length] = ESCAPE;
  return { start, end };
}

/** The last `length` bytes of a key as ASCII (the event ID a tupleKey ends with). */
export function keyTail(key: Uint8Array, length: number): string {
  return String.fromCharCode(...key.subarray(key.length - length));
}
