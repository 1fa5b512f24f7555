/** The entry point on Bun (npm start, dist/trackd). */
import { isMainThread } from "node:worker_threads";

if (isMainThread) {
  const { bunRuntime } = await import("./runtime/bun.ts");
  const { start } = await import("./start.ts");
  await start(bunRuntime);
} else {
  // In the compiled binary the event writer's thread runs this file (see store/event-writer.ts).
  await import("./store/writer-worker.ts");
}
