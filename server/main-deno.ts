/** The entry point on Deno (npm run start:deno, dist/trackd-deno). */
import { denoRuntime } from "./runtime/deno.ts";
import { start } from "./start.ts";

await start(denoRuntime);
