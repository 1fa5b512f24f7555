/** The messages between the main thread (delivery-thread.ts) and the delivery thread (delivery-worker.ts). */
import type { RootDatabaseOptionsWithPath } from "lmdb";
import type { SinkConfig } from "../config/schema.ts";
import type { LogLevel } from "../telemetry/log.ts";
import type { SinkReport } from "./sink-loops.ts";
import type { SinkLoopStatus } from "./sink-loop.ts";

export type ToDelivery =
  | {
      kind: "start";
      options: RootDatabaseOptionsWithPath;
      sinks: SinkConfig[];
      dataDir: string;
      logLevel: LogLevel;
      journal: boolean;
    }
  /** `events` were committed: idle loops look at once, and catching-up ones pace themselves. */
  | { kind: "appended"; events: number }
  | { kind: "report"; id: number; check: boolean }
  | { kind: "stop"; graceMs: number };

export type FromDelivery =
  | { kind: "started" }
  | { kind: "failed"; error: string }
  /** Every loop's state; sent after each batch's bookkeeping and every STATUS_EVERY_MS. */
  | { kind: "status"; statuses: SinkLoopStatus[] }
  | { kind: "report"; id: number; reports: SinkReport[] }
  | { kind: "stopped" };

/** How often the delivery thread reports its loops' state even when nothing happens. */
export const STATUS_EVERY_MS = 500;
