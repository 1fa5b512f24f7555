/** GET /sdk.js: the Web SDK's source, served from the binary, cacheable for an hour. */
import { Elysia } from "elysia";
import { trackdSdk } from "../../ui/sdk/sdk.ts";

/** The script a page loads: the SDK function applied to window. */
export const SDK_SOURCE = `/* trackd Web SDK */\n(${trackdSdk.toString()})(window);\n`;

export function sdkRoutes() {
  const headers = {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=3600",
    "access-control-allow-origin": "*",
  };
  return new Elysia({ name: "sdk" }).get("/sdk.js", () => new Response(SDK_SOURCE, { headers }));
}
