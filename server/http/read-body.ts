/**
 * Reads one event body from a request: checks the content type and encoding, inflates gzip or
 * deflate with the size limit applied to the *decompressed* bytes (so a gzip bomb stops at the
 * limit), decodes strict UTF-8 and parses JSON into a plain object.
 */
import { syntaxErrorAt } from "./json-error.ts";
import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import type { ErrorCode, ErrorDetail } from "../errors.ts";
import type { BodyResult } from "../ingest/body.model.ts";
import { scanJson } from "./json-scan.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");
const BLANK = /^\s*$/;

/** Media types an event body may declare (sendBeacon sends text/plain; some devices send none). */
function acceptedContentType(header: string | null): boolean {
  if (!header) return true;
  const [type, ...params] = header
    .toLowerCase()
    .split(";")
    .map((s) => s.trim());
  if (
    type !== "application/json" &&
    type !== "text/plain" &&
    !/^application\/[a-z0-9.+-]*\+json$/.test(type!)
  )
    return false;
  const charset = params
    .find((p) => p.startsWith("charset="))
    ?.slice(8)
    .replace(/"/g, "");
  return charset === undefined || charset === "utf-8" || charset === "utf8";
}

function contentTypeHint(type: string): string {
  const hint = type.startsWith("application/x-www-form-urlencoded")
    ? " (curl -d sends it by default: add -H 'Content-Type: application/json')"
    : "";
  return `Content-Type ${type} is not accepted${hint}.`;
}

function fail(code: ErrorCode, sample = "", details: ErrorDetail[] = []): BodyResult {
  return { ok: false, code, details, sample };
}

/** Decompresses per Content-Encoding; null means "unsupported encoding". */
function decode(raw: Uint8Array, encoding: string, limit: number): Uint8Array | null {
  const options = { maxOutputLength: limit };
  switch (encoding) {
    case "":
    case "identity":
      return raw;
    case "gzip":
    case "x-gzip":
      return gunzipSync(raw, options);
    case "deflate":
      // RFC 9110 "deflate" is zlib-wrapped, but some clients send raw deflate: accept both.
      try {
        return inflateSync(raw, options);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw err;
        return inflateRawSync(raw, options);
      }
    default:
      return null;
  }
}

/** Reads a body of unknown length (chunked) chunk by chunk, giving up once it passes `cap`. */
async function readCapped(request: Request, cap: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > cap) return null;
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The deepest nesting parsed at all: well past the limit, so validation still says where it was passed. */
export const deepestParsed = (maxDepth: number) => 2 * maxDepth + 32;

/** Reads, inflates, decodes and parses the body of `request` under `maxBytes`: one object, or (batch) an array. */
export async function readEventBody(
  request: Request,
  maxBytes: number,
  maxDepth: number,
  shape: "object" | "array" = "object",
): Promise<BodyResult> {
  const headers = request.headers;
  const contentType = headers.get("content-type");
  if (
    contentType !== null &&
    contentType !== "application/json" &&
    !acceptedContentType(contentType)
  )
    return fail("unsupported_media_type", "", [
      { path: "content-type", code: "invalid_value", message: contentTypeHint(contentType) },
    ]);
  const encodingHeader = headers.get("content-encoding");
  const encoding = encodingHeader === null ? "" : encodingHeader.trim().toLowerCase();
  if (encoding !== "" && !["identity", "gzip", "x-gzip", "deflate"].includes(encoding))
    return fail("unsupported_encoding", "", [
      {
        path: "content-encoding",
        code: "invalid_value",
        message: `Content-Encoding ${encoding} is not accepted.`,
      },
    ]);

  const declared = Number(headers.get("content-length") ?? NaN);
  // A compressed body larger than the limit cannot inflate to less (beyond pathological cases).
  if (declared > maxBytes) return fail("payload_too_large");

  let raw: Uint8Array | null;
  try {
    raw = Number.isFinite(declared) ? await request.bytes() : await readCapped(request, maxBytes);
  } catch {
    return fail("body_unreadable"); // the client went away mid-body: nobody will read the answer, but it is counted
  }
  if (raw === null || raw.byteLength > maxBytes) return fail("payload_too_large");

  let bytes: Uint8Array | null;
  try {
    bytes = decode(raw, encoding, maxBytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError)
      return fail("payload_too_large");
    return fail("invalid_encoding");
  }
  if (bytes === null) return fail("unsupported_encoding");
  if (bytes.byteLength > maxBytes) return fail("payload_too_large");

  let text: string;
  try {
    text = utf8.decode(bytes); // strips a leading BOM
  } catch {
    return fail("invalid_utf8", lenient.decode(bytes.subarray(0, 2048)));
  }
  if (BLANK.test(text)) return fail("empty_body");

  // An event nests at most maxDepth levels (validation names the property that goes past
  // that); a body nesting far deeper than that is refused whole before it is parsed, so
  // nothing of such a batch is stored and nothing after the parser recurses that deep.
  const batch = shape === "array";
  const scan = scanJson(text, deepestParsed(maxDepth) + (batch ? 1 : 0), batch ? 2 : 1);
  if (scan.tooDeepAt >= 0)
    return fail("invalid_event", text.slice(0, 512), [
      {
        path: batch ? `/${scan.tooDeepAt}` : "",
        code: "too_deep",
        message: `Nested deeper than ${maxDepth} levels.`,
      },
    ]);
  // Other repeated keys: the last one counts, as JSON.parse has it. A repeated eventId would
  // dedupe retries on an ID the client may not mean: refused (the whole batch, nothing stored).
  if (scan.duplicateEventIdAt >= 0)
    return fail("invalid_event", text.slice(0, 512), [
      {
        path: `${batch ? `/${scan.duplicateEventIdAt}` : ""}/eventId`,
        code: "conflict",
        message: "eventId is given more than once in one event.",
      },
    ]);

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    const { position, line, column } = syntaxErrorAt(text);
    return fail("invalid_json", text, [
      {
        path: "",
        code: "syntax",
        message: `${(err as Error).message} (at line ${line}, column ${column})`,
        position,
      },
    ]);
  }
  const got = Array.isArray(body) ? "array" : body === null ? "null" : typeof body;
  if (shape === "array" && !Array.isArray(body))
    return fail("body_not_array", text, [
      { path: "", code: "invalid_type", message: `Expected a JSON array of events, got ${got}.` },
    ]);
  if (shape === "object" && (body === null || typeof body !== "object" || Array.isArray(body)))
    return fail("body_not_object", text, [
      { path: "", code: "invalid_type", message: `Expected a JSON object, got ${got}.` },
    ]);
  return {
    ok: true,
    body: body as Record<string, unknown> | unknown[],
    raw,
    text,
    bytes: bytes.byteLength,
    unsafeInteger: scan.unsafeInteger,
  };
}
