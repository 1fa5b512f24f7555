/**
 * Path parameters as strings. Elysia decodes percent-escapes in path segments and yields null
 * for a malformed one ("%E0%A4%A"); such a segment becomes U+FFFD, which no ID or name
 * matches, so the route answers its usual 400 or 404 instead of failing.
 */
export function pathParams<T extends Record<string, string>>(params: T): T {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params))
    out[key] = typeof value === "string" ? value : "\uFFFD";
  return out as T;
}
