/**
 * The batch route's pipeline: the path checks once, then each event through the same steps as
 * the single route (acceptOne), independently, so one bad event never rejects the others.
 */
import type { ErrorCode, ErrorDetail } from "../errors.ts";
import type { TrackedEvent, Warning } from "./event.model.ts";
import { acceptOne, precheck, recordRefusal, type EventOutcome, type IngestDeps, type IngestInput } from "./ingest.ts";

export interface BatchResult {
  index: number;
  status: "accepted" | "duplicate" | "rejected" | "valid";
  eventId?: string;
  error?: { code: ErrorCode; details: ErrorDetail[] };
  event?: TrackedEvent | null;
  warnings?: Warning[];
}

export type BatchOutcome =
  | { kind: "results"; results: BatchResult[] }
  | { kind: "error"; code: ErrorCode; details: ErrorDetail[]; message?: string };

/**
 * The batch route: each event is validated and stored on its own (one bad event never rejects
 * the others), all in one LMDB transaction since they are appended in the same tick.
 */
export async function ingestBatch(deps: IngestDeps, input: IngestInput, maxEvents: number): Promise<BatchOutcome> {
  const receivedAt = deps.now();
  const refuse = (code: ErrorCode, details: ErrorDetail[], ids: { accountId: string | null; trackerId: string | null }, sample: string, message?: string): BatchOutcome => {
    if (!input.debug) recordRefusal(deps, input, ids, receivedAt, code, details, sample);
    return { kind: "error", code, details, message };
  };
  const scope = precheck(deps, input);
  if ("code" in scope) return refuse(scope.code, scope.details, scope.ids, "");
  const body = await input.readBody();
  if (!body.ok) return refuse(body.code, body.details, scope, body.sample, body.message);
  const items = body.body as unknown as unknown[]; // readBody was asked for an array
  if (items.length > maxEvents) return refuse("too_many_events", [{ path: "", code: "too_many_events", message: `At most ${maxEvents} events per batch.` }], scope, body.text.slice(0, 512));

  const outcomes = await Promise.all(
    items.map((item, i): Promise<EventOutcome> =>
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? acceptOne({ deps, input, ...scope, receivedAt }, item as Record<string, unknown>, body.unsafeInteger)
        : Promise.resolve({ kind: "rejected", code: "invalid_event", details: [{ path: `/${i}`, code: "invalid_type", message: "Each event must be a JSON object." }], event: null, warnings: [] }),
    ),
  );
  if (outcomes.some((o) => o.kind === "unavailable")) return { kind: "error", code: "storage_unavailable", details: [] };
  return {
    kind: "results",
    results: outcomes.map((o, index): BatchResult => {
      switch (o.kind) {
        case "stored":
          return { index, status: "accepted", eventId: o.eventId };
        case "duplicate":
          return { index, status: "duplicate", eventId: o.eventId };
        case "valid":
          return { index, status: "valid", event: o.event, warnings: o.warnings };
        case "rejected":
          if (!input.debug) recordRefusal(deps, input, scope, receivedAt, o.code, o.details, JSON.stringify(items[index]) ?? "");
          return { index, status: "rejected", error: { code: o.code, details: o.details }, ...(input.debug && { event: o.event, warnings: o.warnings }) };
        case "unavailable":
          throw new Error("unreachable");
      }
    }),
  };
}
