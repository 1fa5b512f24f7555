/**
 * How long an admin scan (leads and their exports, lists, journeys) may hold the thread that
 * also answers events. All running scans share one slice per turn of the event loop (round
 * robin), so however many run, a turn spends one slice on them and the rest on requests. A
 * slice lasts as long as the rest of the turn took (at least SLICE_MS, at most MAX_SLICE_MS):
 * on a quiet server scans run nearly flat out, under load they get about half the thread, and
 * an event waits at most about one slice for them. A scan stops when its client has gone
 * (the request's signal) and when it has run past its deadline.
 */
import { setImmediate } from "node:timers";

/** The shortest slice, in milliseconds. */
export const SLICE_MS = 0.5;
/** The longest slice: what a scan can add to an event's wait in one turn. */
export const MAX_SLICE_MS = 4;

/** Scans waiting for their next slice, in order; one is let go each turn of the event loop. */
const waiting: (() => void)[] = [];
let turnScheduled = false;
/** When the last slice ended, and how long the current one may last. */
let sliceEnded = 0;
let sliceMs = SLICE_MS;

/** Lets the next waiting scan work, and schedules the one after it for the next turn. */
function nextSlice(): void {
  const next = waiting.shift();
  turnScheduled = waiting.length > 0;
  if (turnScheduled) setImmediate(nextSlice);
  sliceMs = Math.min(MAX_SLICE_MS, Math.max(SLICE_MS, performance.now() - sliceEnded));
  next?.();
}

/** Resolves when this scan's turn comes: a later turn of the event loop, after the scans ahead of it. */
function awaitTurn(): Promise<void> {
  sliceEnded = performance.now();
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(nextSlice);
    }
  });
}

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
   * Call between units of work: resolves at once within a slice, at its end when this scan's
   * next turn comes; rejects with ScanStopped once the client has gone or time is up.
   */
  async pace(): Promise<void> {
    const now = performance.now();
    if (now - this.sliceStart < sliceMs) return;
    await awaitTurn();
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
