/**
 * The batch route's pipeline: the path checks once, then each event through the same steps as
 * the single route (acceptOne), independently, so one bad event never rejects the others.
 */
import { setImmediate } from "node:timers";
import type { ErrorCode, ErrorDetail } from "../errors.ts";
import type { TrackedEvent, Warning } from "../events/event.model.ts";
import {
  acceptOne,
  precheck,
  prechecked,
  recordRefusal,
  type EventOutcome,
  type IngestDeps,
  type IngestInput,
  type Refusal,
} from "./ingest.ts";

export interface BatchResult {
  index: number;
  status: "accepted" | "duplicate" | "rejected" | "valid";
  eventId?: string;
  error?: { code: ErrorCode; details: ErrorDetail[] };
  event?: TrackedEvent | null;
  warnings?: Warning[];
}

export type BatchOutcome = { kind: "results"; results: BatchResult[] } | Refusal;

/** Events of a batch taken between two yields to the event loop. */
const SLICE = 50;

/**
 * The batch route: each event is validated and stored on its own (one bad event never rejects
 * the others); a batch's events are committed together or in a few consecutive commits.
 */
export async function ingestBatch(
  deps: IngestDeps,
  input: IngestInput,
  maxEvents: number,
): Promise<BatchOutcome> {
  const receivedAt = deps.now();
  const refuse = (
    code: ErrorCode,
    details: ErrorDetail[],
    ids: { accountId: string | null; trackerId: string | null },
    sample: string,
    message?: string,
  ): BatchOutcome => {
    if (!input.debug) recordRefusal(deps, input, ids, receivedAt, code, details, sample);
    return { kind: "error", code, details, message };
  };
  const scope = precheck(deps, input, receivedAt);
  if ("code" in scope) return prechecked(deps, input, scope, receivedAt);
  const body = await input.readBody();
  if (!body.ok) return refuse(body.code, body.details, scope, body.sample, body.message);
  const items = body.body as unknown as unknown[]; // readBody was asked for an array
  if (items.length > maxEvents)
    return refuse(
      "too_many_events",
      [{ path: "", code: "too_many_events", message: `At most ${maxEvents} events per batch.` }],
      scope,
      body.text.slice(0, 512),
    );

  // Events are taken in slices, yielding to the event loop between them: a full batch (500
  // events, 1 MiB) took ~25 ms of the request thread in one piece, and every other request
  // waited behind it. Events keep their order (and ID order) across slices.
  const scoped = { deps, input, ...scope, receivedAt };
  const pending: Promise<EventOutcome>[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const item = items[i];
    pending.push(
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? acceptOne(scoped, item as Record<string, unknown>, body.unsafeInteger)
        : Promise.resolve({
            kind: "rejected",
            code: "invalid_event",
            details: [
              { path: `/${i}`, code: "invalid_type", message: "Each event must be a JSON object." },
            ],
            event: null,
            warnings: [],
          }),
    );
  }
  const outcomes = await Promise.all(pending);
  // Nothing stored: the whole batch is a 503 to retry. Some stored: each event says what
  // became of it (a 503 now would have the client send the stored ones again).
  if (
    outcomes.some((o) => o.kind === "unavailable") &&
    !outcomes.some((o) => o.kind === "stored" || o.kind === "duplicate")
  )
    return { kind: "error", code: "storage_unavailable", details: [] };
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
          if (!input.debug)
            recordRefusal(
              deps,
              input,
              scope,
              receivedAt,
              o.code,
              o.details,
              JSON.stringify(items[index]) ?? "",
            );
          return {
            index,
            status: "rejected",
            error: { code: o.code, details: o.details },
            ...(input.debug && { event: o.event, warnings: o.warnings }),
          };
        case "unavailable":
          return { index, status: "rejected", error: { code: "storage_unavailable", details: [] } };
      }
    }),
  };
}
