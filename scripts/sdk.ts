/**
 * The Web SDK's script, bundled and minified from ui/sdk/browser.ts. scripts/build.ts puts it
 * in the binary (as the constant TRACKD_SDK), scripts/build-ui.ts writes it to dist/ui for
 * Deno, and from source runtime/bun.ts bundles it once at the first request for /sdk.js.
 */
import { join } from "node:path";

export async function buildSdk(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "..", "ui", "sdk", "browser.ts")],
    target: "browser",
    // A classic script: wrapped, so that it leaves nothing in the page's globals but trackd.
    format: "iife",
    minify: true,
  });
  if (!result.success) throw new AggregateError(result.logs, "the Web SDK did not build");
  return `/* trackd Web SDK */\n${await result.outputs[0]!.text()}`;
}
