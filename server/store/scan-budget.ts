/**
 * How long an admin scan (leads and their exports) may hold the thread that also answers
 * events: it works in slices of a few milliseconds and yields to the event loop between them,
 * so a valid event waits at most a slice per running scan; it stops when its client has gone
 * (the request's signal) and when it has run past its deadline.
 */
import { setImmediate } from "node:timers";

/** Milliseconds a scan works before it yields. Three scans at once keep an event waiting at most ~3 slices. */
export const SLICE_MS = 0.5;

/** Why a scan stopped before its end. */
export class ScanStopped extends Error {
  constructor(readonly reason: "timeout" | "client_gone") {
    super(reason === "timeout" ? "the scan ran past its time limit" : "the client went away");
  }
}

export class ScanBudget {
  private sliceStart = performance.now();
  private readonly deadline: number;

  /** `timeoutMs` from now; `signal` aborts when the client goes (none: never). */
  constructor(
    timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.deadline = this.sliceStart + timeoutMs;
  }

  /**
   * Call between units of work: resolves at once within a slice, after a yield to the event
   * loop at its end; rejects with ScanStopped once the client has gone or time is up.
   */
  async pace(): Promise<void> {
    const now = performance.now();
    if (now - this.sliceStart < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
    if (this.signal?.aborted) throw new ScanStopped("client_gone");
    if (this.sliceStart > this.deadline) throw new ScanStopped("timeout");
  }
}

/**
 * A scan written as a generator that yields between units of work: run whole (walkToEnd) or
 * paced by a budget (walkPaced). Its return is the result.
 */
export type Walk<T> = Generator<void, T, void>;

/** Runs a walk to its end at once. */
export function walkToEnd<T>(walk: Walk<T>): T {
  for (;;) {
    const next = walk.next();
    if (next.done) return next.value;
  }
}

/** Runs a walk, awaiting `pace` wherever it yields (ScanBudget.pace: a yield to the event loop now and then). */
export async function walkPaced<T>(walk: Walk<T>, pace: () => Promise<void>): Promise<T> {
  for (;;) {
    const next = walk.next();
    if (next.done) return next.value;
    await pace();
  }
}
