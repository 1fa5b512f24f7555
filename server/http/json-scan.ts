/**
 * One pass over a JSON text before it is parsed, for what the parsed value no longer tells:
 * how deep it nests (JSON.parse and everything after it recurse, so a body 50,000 brackets
 * deep overflowed the stack or held the event loop for a second), and whether it writes an
 * integer beyond ±2^53, which JSON.parse rounds silently (9007199254740993 becomes ...992),
 * as opposed to a float written with an exponent (1e22), which it keeps.
 */

const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const E_LOWER = 0x65;
const E_UPPER = 0x45;
const MAX_SAFE = "9007199254740991";

export interface JsonScan {
  /** The index of the top-level array's element that first nests deeper than the limit (0 when the top level is not an array), or -1. */
  tooDeepAt: number;
  /** True if an integer literal (no fraction, no exponent) lies beyond ±(2^53 - 1). */
  unsafeInteger: boolean;
}

/** Scans `text` (valid JSON or not: the parser says what else is wrong); strings are skipped. */
export function scanJson(text: string, maxDepth: number): JsonScan {
  let depth = 0;
  let element = 0;
  let unsafeInteger = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return { tooDeepAt: element, unsafeInteger };
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if (c === COMMA && depth === 1) element++;
    else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = c === MINUS ? i + 1 : i;
      let end = start;
      while (end < text.length && text.charCodeAt(end) >= ZERO && text.charCodeAt(end) <= NINE) end++;
      const next = text.charCodeAt(end);
      const digits = end - start;
      if (next !== DOT && next !== E_LOWER && next !== E_UPPER && (digits > MAX_SAFE.length || (digits === MAX_SAFE.length && text.slice(start, end) > MAX_SAFE))) unsafeInteger = true;
      i = end - 1;
    }
  }
  return { tooDeepAt: -1, unsafeInteger };
}
