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
// A string: no raw control characters (below U+0020), escapes as JSON has them.
// biome-ignore lint/complexity/useRegexLiterals: as a literal, the control-character range trips noControlCharactersInRegex, and here it is the point.
const STRING = new RegExp(
  String.raw`"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`,
  "y",
);
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
  /** After any space: true (and stepped over) if `c` is next. */
  const next = (c: string) => {
    space();
    if (text[at] !== c) return false;
    at++;
    return true;
  };
  /** Steps over `c` after any space, or fails there. */
  const expect = (c: string) => {
    if (!next(c)) fail();
  };
  const value = (): void => {
    space();
    if (next("{")) {
      if (next("}")) return;
      do {
        space();
        if (text[at] !== '"') fail();
        token(STRING);
        expect(":");
        value();
      } while (next(","));
      expect("}");
    } else if (next("[")) {
      if (next("]")) return;
      do value();
      while (next(","));
      expect("]");
    } else if (text[at] === '"') token(STRING);
    else {
      const word = WORDS.find((w) => text.startsWith(w, at));
      if (word) at += word.length;
      else token(NUMBER);
    }
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
