/**
 * GET /sdk.js: the Web SDK's script, bundled at build time (scripts/sdk.ts) and served by the
 * runtime (runtime/bun.ts, runtime/deno.ts) beside the collect routes, cacheable for an hour.
 */
const SDK_HEADERS = {
  "content-type": "text/javascript; charset=utf-8",
  "cache-control": "public, max-age=3600",
  "access-control-allow-origin": "*",
  "x-content-type-options": "nosniff",
};

export const sdkResponse = (script: string) => new Response(script, { headers: SDK_HEADERS });
