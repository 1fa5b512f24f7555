/**
 * GET /sdk.js: the Web SDK's script, bundled at build time (scripts/sdk.ts) and served by the
 * runtime (runtime/bun.ts, runtime/deno.ts) beside the collect routes.
 *
 * Compressed once, when first asked for: brotli or gzip as the client accepts (every browser
 * takes brotli over HTTPS, gzip otherwise), plain for a client that takes neither. An ETag
 * (the script's hash) lets a browser revalidate with a 304 of no body. Cached a day, and used
 * for a week more while it revalidates: a dealership's pages load it once a day, and an
 * upgraded trackd's script reaches every shopper within a day. The URL has no version, so it
 * cannot be cached for good.
 */
import { createHash } from "node:crypto";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const SDK_HEADERS = {
  "content-type": "text/javascript; charset=utf-8",
  "cache-control": "public, max-age=86400, stale-while-revalidate=604800",
  "access-control-allow-origin": "*",
  "x-content-type-options": "nosniff",
  vary: "Accept-Encoding",
};

type Bytes = Uint8Array<ArrayBuffer>;

interface Encoded {
  etag: string;
  identity: Bytes;
  gzip: Bytes;
  br: Bytes | null;
}

let encoded: { script: string; value: Encoded } | null = null;

/** The script's encodings, made once per script. */
function encodingsOf(script: string): Encoded {
  if (encoded?.script === script) return encoded.value;
  const identity = new TextEncoder().encode(script) as Bytes;
  let br: Bytes | null = null;
  try {
    br = new Uint8Array(
      brotliCompressSync(identity, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
        },
      }),
    );
  } catch {} // a runtime without brotli serves gzip
  const value = {
    etag: `"${createHash("sha256").update(identity).digest("hex").slice(0, 32)}"`,
    identity,
    gzip: new Uint8Array(gzipSync(identity, { level: 9 })),
    br,
  };
  encoded = { script, value };
  return value;
}

/** The encodings an Accept-Encoding header takes (q=0 refuses one), as a set of names. */
function accepted(header: string | null): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.split(";").map((s) => s.trim());
    const q = params.find((p) => p.startsWith("q="));
    if (name && !(q && Number(q.slice(2)) === 0)) out.add(name);
  }
  return out;
}

/** The answer to a GET of /sdk.js. */
export function sdkResponse(script: string, request: Request): Response {
  const e = encodingsOf(script);
  const headers: Record<string, string> = { ...SDK_HEADERS, etag: e.etag };
  const known = request.headers.get("if-none-match");
  if (known?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === e.etag))
    return new Response(null, { status: 304, headers });
  const takes = accepted(request.headers.get("accept-encoding"));
  const wildcard = takes.has("*");
  if (e.br && (takes.has("br") || wildcard))
    return new Response(e.br, { headers: { ...headers, "content-encoding": "br" } });
  if (takes.has("gzip") || takes.has("x-gzip") || wildcard)
    return new Response(e.gzip, { headers: { ...headers, "content-encoding": "gzip" } });
  return new Response(e.identity, { headers });
}
