/** /healthz (the process answers) and /readyz (storage writable and not shutting down). */
import { Elysia } from "elysia";

export interface HealthDeps {
  draining: () => boolean;
  writable: () => Promise<boolean>;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export function healthRoutes(deps: HealthDeps) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => json(200, { status: "ok" }))
    .get("/readyz", async () => {
      if (deps.draining()) return json(503, { status: "draining" });
      if (!(await deps.writable())) return json(503, { status: "storage_unwritable" });
      return json(200, { status: "ready" });
    });
}
