/**
 * The batch route's events: each through the same steps as the single route's (acceptOne),
 * independently, so one bad event never rejects the others.
 */
import { setImmediate } from "node:timers";
import { acceptOne, type EventOutcome, type Scope } from "./ingest.ts";

/** Events of a batch taken between two yields to the event loop. */
const SLICE = 50;

/**
 * What became of each event of a batch, in order. Events are taken in slices, yielding to the
 * event loop between them: a full batch (500 events, 1 MiB) took ~25 ms of the request thread
 * in one piece, and every other request waited behind it. Events keep their order (and ID
 * order) across slices.
 */
export async function acceptBatch(
  scope: Scope,
  items: unknown[],
  unsafeIntegers: boolean,
): Promise<EventOutcome[]> {
  const pending: Promise<EventOutcome>[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const item = items[i];
    pending.push(
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? acceptOne(scope, item as Record<string, unknown>, unsafeIntegers, i)
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
  return Promise.all(pending);
}
