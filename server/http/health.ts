/** /healthz (the process answers) and /readyz (not shutting down, storage with room and writable). */
import { Elysia } from "elysia";
import { json } from "./json.ts";

export interface HealthDeps {
  draining: () => boolean;
  /** Why new events are refused for room (storage full), or null. */
  storageFull: () => string | null;
  writable: () => Promise<boolean>;
}

export function healthRoutes(deps: HealthDeps) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => json({ status: "ok" }))
    .get("/readyz", async () => {
      if (deps.draining()) return json({ status: "draining" }, 503);
      const full = deps.storageFull();
      if (full !== null) return json({ status: "storage_full", reason: full }, 503);
      if (!(await deps.writable()))
        return json(
          {
            status: "storage_unwritable",
            reason: "a small write to the store failed: see the log",
          },
          503,
        );
      return json({ status: "ready" });
    });
}
