/** Messages between the main thread (request-threads.ts) and a request thread of `workers` (request-worker.ts). */
import type { RootDatabaseOptionsWithPath } from "lmdb";
import type { Config } from "../config/schema.ts";
import type { RateLimitTables } from "../ingest/rate-limit.ts";
import type { StoredElsewhere } from "../store/event-store.ts";
import type { RejectRecord } from "../store/reject-log.ts";
import type { CollectCounters } from "../telemetry/metrics.ts";

/** How often a request thread sends its counters when nobody asks. */
export const COUNTERS_EVERY_MS = 1000;

/** The state a request thread follows from the main thread. */
export interface SharedState {
  storageFull: boolean;
  draining: boolean;
}

/**
 * That state in memory every thread sees at once (a SharedArrayBuffer): the main thread
 * writes it, a request thread reads it on each request, so a full disk stops every thread's
 * writes as soon as the main thread knows.
 */
export class SharedFlags {
  private readonly flags: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.flags = new Int32Array(buffer);
  }
  get storageFull(): boolean {
    return Atomics.load(this.flags, 0) === 1;
  }
  get draining(): boolean {
    return Atomics.load(this.flags, 1) === 1;
  }
  set(state: SharedState): void {
    Atomics.store(this.flags, 0, state.storageFull ? 1 : 0);
    Atomics.store(this.flags, 1, state.draining ? 1 : 0);
  }
}

export type ToRequests =
  | {
      kind: "start";
      config: Config;
      envOptions: RootDatabaseOptionsWithPath;
      /** The port the main thread listens on (its own choice when config.port is 0). */
      port: number;
      tls: { cert: string; key: string } | null;
      journal: boolean;
      writerPort: MessagePort;
      /** SharedFlags' buffer. */
      flags: SharedArrayBuffer;
      /** The main thread's socket for the admin page and API, or null if they listen apart (admin.port). */
      forwardTo: string | null;
      /** The rate limits' buckets, which every thread takes from. */
      rateLimits: RateLimitTables;
    }
  /** The registry changed on the main thread: read it again. */
  | { kind: "registry" }
  | { kind: "tls"; tls: { cert: string; key: string } }
  /** The event writer thread failed: refuse every event (503) rather than wait for it. */
  | { kind: "writer-failed"; error: string }
  /** The answer to a "metrics" request: the whole text, every thread's counters summed. */
  | { kind: "metrics"; id: number; text: string }
  | { kind: "stop" };

export type FromRequests =
  /**
   * The thread takes messages now. (Its entry loads modules first, and Bun drops messages
   * that arrive before a worker's onmessage is set: "start" waits for this.)
   */
  | { kind: "ready" }
  | { kind: "listening" }
  | { kind: "failed"; error: string }
  /** Events this thread stored (so the main thread counts them, wakes delivery, feeds the live stream). */
  | { kind: "stored"; events: StoredElsewhere[] }
  | { kind: "rejected"; records: { record: Omit<RejectRecord, "id">; idsValid: boolean }[] }
  | { kind: "counters"; counters: CollectCounters }
  /** A scrape of /metrics on this thread: its counters now, and the whole text wanted back. */
  | { kind: "metrics"; id: number; counters: CollectCounters }
  | { kind: "tls-reloaded"; error: string | null }
  | { kind: "stopped" };
