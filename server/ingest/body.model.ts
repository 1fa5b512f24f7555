/** A request body as the pipeline receives it: parsed, or refused with why (http/read-body.ts reads it). */
import type { ErrorCode, ErrorDetail } from "../errors.ts";

export type BodyResult =
  /** `unsafeInteger`: the text writes an integer beyond ±2^53 (http/json-scan.ts): such numbers are refused, not rounded. */
  | {
      ok: true;
      body: Record<string, unknown> | unknown[];
      /** The body as sent (before decompression): what a signature covers. */
      raw: Uint8Array;
      text: string;
      bytes: number;
      unsafeInteger: boolean;
    }
  | { ok: false; code: ErrorCode; details: ErrorDetail[]; sample: string };
