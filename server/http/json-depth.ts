/**
 * How deep a JSON text nests, found in one pass over its characters before it is parsed:
 * JSON.parse and everything after it (validation, JSON.stringify of a sample) recurse, so a
 * body 50,000 brackets deep overflowed the stack (500) or held the event loop for a second.
 */

const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * Where `text` first nests deeper than `max` brackets: the index of the top-level array's
 * element that does (0 when the top level is not an array), or -1 if nothing does. Strings are
 * skipped; the text need not be valid JSON (the parser says what else is wrong).
 */
export function tooDeepAt(text: string, max: number): number {
  let depth = 0;
  let element = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return element;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if (c === COMMA && depth === 1) element++;
  }
  return -1;
}
