/**
 * An admin answer that scans the store (leads and their exports, the events list): run with a
 * ScanBudget of its own, so it yields to the events arriving meanwhile, stops when its client
 * goes, and past admin.queryTimeoutSeconds answers 503 query_timeout.
 */
import { errorResponse } from "../errors.ts";
import { ScanBudget, ScanStopped } from "../store/scan-budget.ts";

/** The answer `scan` makes with a budget for this request, or why the scan stopped. */
export async function scanned(
  request: Request,
  timeoutMs: number,
  scan: (budget: ScanBudget) => Promise<Response>,
): Promise<Response> {
  try {
    return await scan(new ScanBudget(timeoutMs, request.signal));
  } catch (err) {
    if (!(err instanceof ScanStopped)) throw err;
    // A client that went away reads no answer; one that waited is told to narrow the query.
    return errorResponse(
      "query_timeout",
      [],
      err.reason === "timeout"
        ? `The query ran longer than ${timeoutMs / 1000} s; narrow it (a shorter time range, a lower limit, more filters) and page on.`
        : "The client closed the connection; the query was stopped.",
    );
  }
}
