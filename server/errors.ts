/**
 * The one error table: every error trackd answers with has a stable snake_case code here,
 * mapped to its HTTP status and the log level it is recorded at. Every error response comes
 * from here (errorResponse); /healthz and /readyz answer plain statuses of their own.
 */

interface ErrorSpec {
  status: number;
  /** How a refusal with this code is logged (a level of telemetry/log.ts, which imports this file). */
  level: "debug" | "info" | "warn" | "error";
  message: string;
}

export const ERRORS = {
  invalid_id: {
    status: 400,
    level: "debug",
    message: "The account or tracker ID in the path is not a positive integer or a UUID.",
  },
  invalid_json: { status: 400, level: "debug", message: "The body is not valid JSON." },
  invalid_utf8: { status: 400, level: "debug", message: "The body is not valid UTF-8." },
  body_unreadable: {
    status: 400,
    level: "debug",
    message:
      "The body could not be read: the client closed the connection before sending all of it.",
  },
  empty_body: { status: 400, level: "debug", message: "The body is empty; send one JSON object." },
  body_not_object: { status: 400, level: "debug", message: "The body must be one JSON object." },
  invalid_event: {
    status: 400,
    level: "debug",
    message: "The event has invalid or missing fields.",
  },
  unregistered_id: {
    status: 400,
    level: "debug",
    message:
      "The account or tracker ID is not registered, and this server rejects unregistered IDs.",
  },
  invalid_encoding: {
    status: 400,
    level: "debug",
    message: "The body could not be decompressed with the declared Content-Encoding.",
  },
  unauthorized: { status: 401, level: "info", message: "A valid admin token is required." },
  invalid_token: { status: 401, level: "info", message: "That is not the admin token." },
  signature_required: {
    status: 401,
    level: "info",
    message:
      "This tracker takes server-side events only with proof of their sender: an X-Trackd-Signature, or its secret as a bearer token.",
  },
  invalid_signature: {
    status: 401,
    level: "warn",
    message: "The signature or secret does not match any of this tracker's secrets.",
  },
  signature_expired: {
    status: 401,
    level: "info",
    message: "The signature's time is more than 300 seconds from the server's clock.",
  },
  rate_limited: { status: 429, level: "warn", message: "Too many attempts; retry later." },
  origin_not_allowed: {
    status: 403,
    level: "info",
    message: "This tracker does not accept events from this origin.",
  },
  forbidden: {
    status: 403,
    level: "info",
    message:
      "This credential's role does not allow this: a read credential only reads, an export credential only fetches exports.",
  },
  cross_origin_request: {
    status: 403,
    level: "warn",
    message:
      "Admin changes are accepted only from the admin page's own origin (or from API clients with a bearer token).",
  },
  not_found: { status: 404, level: "debug", message: "No such route." },
  too_many_secrets: {
    status: 409,
    level: "debug",
    message: "A tracker has at most two secrets: retire one before making another.",
  },
  sink_not_found: { status: 404, level: "debug", message: "No sink has this name." },
  event_not_found: { status: 404, level: "debug", message: "No stored event has this ID." },
  method_not_allowed: {
    status: 405,
    level: "debug",
    message: "This route does not accept that method.",
  },
  too_many_events: {
    status: 413,
    level: "debug",
    message: "The batch has more events than the limit.",
  },
  body_not_array: {
    status: 400,
    level: "debug",
    message: "The batch body must be a JSON array of event objects.",
  },
  payload_too_large: {
    status: 413,
    level: "debug",
    message: "The body is larger than the limit (checked after decompression).",
  },
  unsupported_media_type: {
    status: 415,
    level: "debug",
    message: "Send the event as application/json, text/plain or without a Content-Type.",
  },
  unsupported_encoding: {
    status: 415,
    level: "debug",
    message: "Content-Encoding must be gzip, deflate or identity.",
  },
  json_required: {
    status: 415,
    level: "debug",
    message: "Admin changes take a JSON body (Content-Type: application/json).",
  },
  length_required: {
    status: 411,
    level: "debug",
    message: "Admin requests with a body must give its Content-Length.",
  },
  invalid_host: {
    status: 400,
    level: "debug",
    message: "The Host header is not a valid host.",
  },
  invalid_request: {
    status: 400,
    level: "debug",
    message: "A query parameter or the request body is invalid.",
  },
  storage_full: {
    status: 503,
    level: "warn",
    message: "Storage is at its cap or the disk is nearly full; retry later.",
  },
  storage_unavailable: {
    status: 503,
    level: "error",
    message: "The event could not be stored; retry later.",
  },
  shutting_down: {
    status: 503,
    level: "info",
    message: "The server is shutting down; retry later.",
  },
  query_timeout: {
    status: 503,
    level: "warn",
    message:
      "The query ran longer than the admin query time limit; narrow it (a shorter time range or a lower limit).",
  },
  internal_error: { status: 500, level: "error", message: "Unexpected error." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes a collect request can be refused with: its metrics start at zero for each. */
export const COLLECT_ERROR_CODES = [
  "invalid_id",
  "invalid_json",
  "invalid_utf8",
  "body_unreadable",
  "empty_body",
  "body_not_object",
  "body_not_array",
  "invalid_event",
  "unregistered_id",
  "invalid_encoding",
  "unsupported_encoding",
  "unsupported_media_type",
  "payload_too_large",
  "too_many_events",
  "rate_limited",
  "origin_not_allowed",
  "signature_required",
  "invalid_signature",
  "signature_expired",
  "storage_full",
  "storage_unavailable",
  "shutting_down",
  "internal_error",
] as const satisfies readonly ErrorCode[];

/** One failing field: a JSON Pointer into the body (or a path parameter), a stable code and a sentence. */
export interface ErrorDetail {
  path: string;
  code: DetailCode;
  message: string;
  /** For a syntax error: the offset in the body (UTF-16 code units) where the JSON goes wrong. */
  position?: number;
}

/** Codes that appear in `error.details[].code`; each limit has its own. */
export const DETAIL_CODES = {
  syntax: "The body is not JSON from this position on (invalid_json).",
  required: "The field is required.",
  invalid_type: "The field has the wrong JSON type.",
  empty: "The field must not be empty or only whitespace.",
  too_long: "The string is longer than its limit.",
  lone_surrogate: "The string holds an unpaired UTF-16 surrogate, which is not Unicode text.",
  conflict: "Two spellings of the same field carry different values.",
  not_finite: "The number must be finite.",
  unsafe_integer: "The integer cannot be represented exactly; send it as a string.",
  too_deep: "The value is nested deeper than the limit.",
  too_many_properties: "The event has more properties than the limit.",
  key_too_long: "A property name is longer than its limit.",
  invalid_id: "Must be a positive integer without leading zeros (at most 18 digits) or a UUID.",
  invalid_value: "The value is not allowed here.",
  unregistered: "No such ID is registered.",
  too_many_events: "The batch has more events than the limit.",
  invalid_time: "A time that is not ISO 8601 with a zone or epoch milliseconds, or is ambiguous.",
  repeated: "The query parameter is given more than once.",
  unknown_parameter: "The route takes no query parameter of this name.",
  unknown_field: "The object takes no field of this name (customer, vehicle).",
} as const;

export type DetailCode = keyof typeof DETAIL_CODES;

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** The JSON envelope for an error response. */
export function errorBody(code: ErrorCode, details: ErrorDetail[] = [], message?: string) {
  return { error: { code, message: message ?? ERRORS[code].message, details } };
}

/** A complete JSON error response, with Retry-After on the retryable statuses. */
export function errorResponse(
  code: ErrorCode,
  details: ErrorDetail[] = [],
  message?: string,
  headers: Record<string, string> = {},
): Response {
  const status: number = ERRORS[code].status;
  const all: Record<string, string> = { "content-type": "application/json", ...headers };
  if ((status === 503 || status === 429) && !all["retry-after"])
    all["retry-after"] = String(RETRY_AFTER_SECONDS);
  return new Response(JSON.stringify(errorBody(code, details, message)), { status, headers: all });
}
