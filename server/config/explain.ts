/**
 * Config problems that say what to do: where the value came from (the file and its line, or
 * the variable or flag that set it), the nearest known key for a misspelt one, and a schema's
 * own words for a pattern instead of the regular expression (`patternMessage`).
 */
import type { TSchema } from "@sinclair/typebox";
import type { ValueError } from "@sinclair/typebox/value";

/** The schema's known keys at `path` (JSON-pointer parts), or [] past what it describes. */
export function keysAt(schema: TSchema, parts: string[]): string[] {
  let node: TSchema | undefined = schema;
  for (const part of parts) {
    if (!node) return [];
    if (node.type === "array") node = node.items as TSchema;
    else node = (node.properties as Record<string, TSchema> | undefined)?.[part];
  }
  return Object.keys((node?.properties as Record<string, TSchema> | undefined) ?? {});
}

/** How far apart two words are (Levenshtein), with an early stop past `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

/** The known key a misspelt one most likely meant ("durabilty", "data_dir", "DataDir"), or null. */
export function nearest(word: string, known: string[]): string | null {
  const plain = (s: string) => s.replace(/[-_]/g, "").toLowerCase();
  const same = known.find((k) => plain(k) === plain(word));
  if (same) return same;
  const max = Math.max(1, Math.floor(word.length / 4));
  let best: string | null = null;
  let bestDistance = max + 1;
  for (const k of known) {
    const d = distance(plain(word), plain(k), max);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** The line (1-based) of the file's only mention of `key` as a key, or null. */
export function lineOf(text: string, key: string): number | null {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // JSON's "key": anywhere, TOML's key = (also inside an inline table) and [table] headers.
  const asKey = new RegExp(
    `(?:"${escaped}"\\s*:|(?:^|[\\s{,])${escaped}\\s*=|^\\s*\\[+\\s*${escaped}\\s*\\]+)`,
  );
  const lines = text.split("\n");
  const found = lines.flatMap((line, i) => (asKey.test(line) ? [i + 1] : []));
  return found.length === 1 ? found[0]! : null;
}

/** One problem, said for a person: what is wrong, where it came from, what would be right. */
export function explain(
  e: ValueError,
  schema: TSchema,
  where: (path: string) => string,
  prefix = "",
): string {
  const path = `${prefix}${e.path}` || "/";
  const parts = e.path.split("/").slice(1);
  const key = parts.at(-1) ?? "";
  if (e.message === "Unexpected property") {
    const meant = nearest(key, keysAt(schema, parts.slice(0, -1)));
    return `${path}: unknown setting "${key}"${where(path)}${meant ? `; did you mean "${meant}"?` : ""}`;
  }
  const words = (e.schema as { patternMessage?: string }).patternMessage;
  if (words && e.schema.pattern !== undefined && typeof e.value === "string") {
    const origin = originOf(e.value);
    const fix = origin && origin !== e.value ? `; did you mean "${origin}"?` : "";
    return `${path}: ${JSON.stringify(e.value)} is not ${words}${where(path)}${fix}`;
  }
  return `${path}: ${e.message}${e.value !== undefined && typeof e.value !== "object" ? `, got ${JSON.stringify(e.value)}` : ""}${where(path)}`;
}

/** The origin a URL-ish string names (for an allowed origin given with a path or a slash), or null. */
function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}
