/**
 * One pass over a JSON text before it is parsed, for what the parsed value no longer tells:
 * how deep it nests (JSON.parse and everything after it recurse, so a body 50,000 brackets
 * deep overflowed the stack or held the event loop for a second), and whether it writes an
 * integer beyond ±2^53, which JSON.parse rounds silently (9007199254740993 becomes ...992),
 * as opposed to a float written with an exponent (1e22), which it keeps; and whether an
 * event names its eventId twice (JSON.parse keeps the last, so a retry would be matched on a
 * different ID than the client meant).
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
  /** The index of the first event (0 for a single event) whose object has the key eventId more than once, or -1. */
  duplicateEventIdAt: number;
}

const EVENT_ID_KEY = "eventId";
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Scans `text` (valid JSON or not: the parser says what else is wrong); strings are skipped.
 * `eventDepth`: the nesting of an event's own keys (1 for one event, 2 in a batch's array).
 */
export function scanJson(text: string, maxDepth: number, eventDepth = 1): JsonScan {
  let depth = 0;
  let element = 0;
  let unsafeInteger = false;
  let eventIds = 0;
  let duplicateEventIdAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (
        depth === eventDepth &&
        i - start === EVENT_ID_KEY.length &&
        text.startsWith(EVENT_ID_KEY, start)
      ) {
        let next = i + 1;
        while (next < text.length && isSpace(text.charCodeAt(next))) next++;
        if (text.charCodeAt(next) === 0x3a /* : */ && ++eventIds === 2 && duplicateEventIdAt < 0)
          duplicateEventIdAt = element;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return { tooDeepAt: element, unsafeInteger, duplicateEventIdAt };
      if (depth === eventDepth) eventIds = 0; // a new event object begins
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if (c === COMMA && depth === 1) element++;
    else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = c === MINUS ? i + 1 : i;
      let end = start;
      while (end < text.length && text.charCodeAt(end) >= ZERO && text.charCodeAt(end) <= NINE)
        end++;
      const next = text.charCodeAt(end);
      const digits = end - start;
      if (
        next !== DOT &&
        next !== E_LOWER &&
        next !== E_UPPER &&
        (digits > MAX_SAFE.length ||
          (digits === MAX_SAFE.length && text.slice(start, end) > MAX_SAFE))
      )
        unsafeInteger = true;
      i = end - 1;
    }
  }
  return { tooDeepAt: -1, unsafeInteger, duplicateEventIdAt };
}
