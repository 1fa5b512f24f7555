/** The entry point on Bun (npm start, dist/trackd). */
import { bunRuntime } from "./runtime/bun.ts";
import { start } from "./start.ts";

await start(bunRuntime);
