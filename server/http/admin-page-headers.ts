/** The admin page's response headers, the same on every runtime (runtime/bun.ts, runtime/deno.ts). */

/**
 * What the page may do: scripts, styles and requests from trackd itself only (no inline
 * script), no framing by another site (clickjacking), no type sniffing, no referrer leaving.
 */
export const ADMIN_PAGE_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};
