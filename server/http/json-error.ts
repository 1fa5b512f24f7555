/**
 * Where a JSON text first goes wrong, for invalid_json's details. Bun's JSON.parse says what
 * it met but not where; this small recursive-descent reader (RFC 8259) runs only on a text
 * JSON.parse refused, whose nesting json-scan.ts has already bounded.
 */
export interface SyntaxErrorAt {
  /** Offset in the text (UTF-16 code units), and the same as line and column, from 1. */
  position: number;
  line: number;
  column: number;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WORDS = ["true", "false", "null"];

/** The first offset at which `text` is not JSON (text.length if it ends too early). */
export function syntaxErrorAt(text: string): SyntaxErrorAt {
  let at = 0;
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const fail = (): never => {
    throw at;
  };
  const token = (pattern: RegExp) => {
    pattern.lastIndex = at;
    if (!pattern.test(text)) fail();
    at = pattern.lastIndex;
  };
  const value = (): void => {
    space();
    const c = text[at];
    if (c === "{") {
      at++;
      space();
      if (text[at] === "}") return void at++;
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        token(STRING);
        space();
        if (text[at++] !== ":") at--, fail();
        value();
        space();
        if (text[at] === "}") return void at++;
        if (text[at++] !== ",") at--, fail();
      }
    }
    if (c === "[") {
      at++;
      space();
      if (text[at] === "]") return void at++;
      for (;;) {
        value();
        space();
        if (text[at] === "]") return void at++;
        if (text[at++] !== ",") at--, fail();
      }
    }
    if (c === '"') return token(STRING);
    const word = WORDS.find((w) => text.startsWith(w, at));
    if (word) return void (at += word.length);
    token(NUMBER);
  };
  let position = text.length;
  try {
    value();
    space();
    if (at < text.length) position = at;
  } catch (thrown) {
    position = thrown as number;
  }
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  return { position, line, column: position - before.lastIndexOf("\n") };
}
