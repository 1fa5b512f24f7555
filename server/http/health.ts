/** /healthz (the process answers) and /readyz (storage writable and not shutting down). */
import { Elysia } from "elysia";
import { json } from "./json.ts";

export interface HealthDeps {
  draining: () => boolean;
  writable: () => Promise<boolean>;
}

export function healthRoutes(deps: HealthDeps) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => json({ status: "ok" }))
    .get("/readyz", async () => {
      if (deps.draining()) return json({ status: "draining" }, 503);
      if (!(await deps.writable())) return json({ status: "storage_unwritable" }, 503);
      return json({ status: "ready" });
    });
}
