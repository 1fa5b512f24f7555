/**
 * Client times: `timestamp` (when it happened) and `sentAt` (when the client sent it), as
 * ISO 8601 with a zone or epoch milliseconds. `occurredAt` is the timestamp moved onto the
 * server's clock, `receivedAt - (sentAt - timestamp)`, so a device whose clock is off still
 * lines up; without `sentAt` the timestamp is taken as is.
 */
import type { ErrorDetail } from "../errors.ts";
import type { Warning } from "./event.model.ts";

const DAY = 86_400_000;
/** Epoch milliseconds before 2001-09-09 look like seconds sent by mistake: refused as ambiguous. */
const MIN_EPOCH_MS = 1_000_000_000_000;
/** ISO 8601 date-time with a zone (Z or ±hh:mm); a bare local time is ambiguous. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Parses one client time field; undefined when absent, null (with a problem) when unusable. */
export function parseClientTime(
  value: unknown,
  path: string,
  problems: ErrorDetail[],
): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      problems.push({
        path,
        code: "invalid_time",
        message: "Epoch times must be whole milliseconds.",
      });
      return null;
    }
    if (value < MIN_EPOCH_MS) {
      problems.push({
        path,
        code: "invalid_time",
        message: "Ambiguous epoch time: looks like seconds; send milliseconds or ISO 8601.",
      });
      return null;
    }
    return value;
  }
  if (typeof value === "string") {
    const ms = ISO_WITH_ZONE.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) {
      problems.push({
        path,
        code: "invalid_time",
        message: "Send ISO 8601 with a zone (2026-11-26T10:00:00Z) or epoch milliseconds.",
      });
      return null;
    }
    return ms;
  }
  problems.push({
    path,
    code: "invalid_type",
    message: `${path.slice(1)} must be an ISO 8601 string or epoch milliseconds.`,
  });
  return null;
}

/** When the event happened on the server's clock; clamped to `receivedAt` if over a day ahead. */
export function occurredAt(
  receivedAt: number,
  timestamp: number | undefined,
  sentAt: number | undefined,
  warnings: Warning[],
): number {
  if (timestamp === undefined) return receivedAt;
  const at = sentAt === undefined ? timestamp : receivedAt - (sentAt - timestamp);
  if (at > receivedAt + DAY) {
    warnings.push({
      path: "/timestamp",
      code: "clamped_future",
      message: "The event is dated more than a day in the future; occurredAt is set to receivedAt.",
    });
    return receivedAt;
  }
  return at;
}
