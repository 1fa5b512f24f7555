/**
 * Property-based tests of the input path (fast-check), plus a corpus of known-nasty JSON:
 * whatever arrives, trackd answers below 500 with a stable error code or stores the event
 * exactly as sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { DETAIL_CODES, ERRORS } from "../../server/errors.ts";
import { createTestApp, validEvent, type TestApp, BASE } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const codes = new Set(Object.keys(ERRORS));
const detailCodes = new Set(Object.keys(DETAIL_CODES));

async function send(
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<Response> {
  return t.app.handle(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers,
      body: body as Uint8Array<ArrayBuffer>,
    }),
  );
}

/** The invariant every response must keep. */
async function checkResponse(
  res: Response,
): Promise<{ status: number; code?: string; eventId?: string }> {
  expect(res.status).toBeLessThan(500);
  if (res.status === 204) {
    const eventId = res.headers.get("x-event-id")!;
    expect(t.store.events.get(eventId)).toBeDefined();
    return { status: 204, eventId };
  }
  if (res.status === 200) return { status: 200 };
  const body = (await res.json()) as {
    error: { code: string; details: { code: string; path: string }[] };
  };
  expect(codes.has(body.error.code)).toBe(true);
  for (const d of body.error.details) expect(detailCodes.has(d.code)).toBe(true);
  return { status: res.status, code: body.error.code };
}

const pathId = fc.oneof(
  fc.constantFrom(
    "1",
    "42",
    "0",
    "-1",
    "01",
    "abc",
    "%00",
    "%E0%A4%A",
    "%ZZ",
    "%",
    "%C0%80",
    "123e4567-e89b-12d3-a456-426614174000",
    "x".repeat(300),
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);
const contentType = fc.option(
  fc.constantFrom(
    "application/json",
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "multipart/form-data",
    "",
    "application/vnd.x+json",
    "garbage/;;;",
  ),
  { nil: undefined },
);
const encoding = fc.option(fc.constantFrom("gzip", "deflate", "br", "identity", "gzip, gzip", ""), {
  nil: undefined,
});

describe("fuzzing the collect route", () => {
  test("arbitrary bytes, content types, encodings and path IDs never produce a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        pathId,
        pathId,
        fc.uint8Array({ maxLength: 2048 }),
        contentType,
        encoding,
        async (aid, tid, bytes, type, enc) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers["content-type"] = type;
          if (enc !== undefined) headers["content-encoding"] = enc;
          const body =
            enc === "gzip" && bytes.length % 2 === 0 ? new Uint8Array(gzipSync(bytes)) : bytes; // sometimes a real gzip stream
          await checkResponse(await send(`/collect/${aid}/${tid}/event`, body, headers));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("arbitrary JSON values as bodies never produce a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 20 }), async (value) => {
        await checkResponse(
          await send("/collect/1/1/event", new TextEncoder().encode(JSON.stringify(value)), {
            "content-type": "application/json",
          }),
        );
        await checkResponse(
          await send("/collect/1/1/events", new TextEncoder().encode(JSON.stringify([value])), {
            "content-type": "text/plain",
          }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test("a valid event with arbitrary extra fields is stored exactly as sent, or refused with a stable code", async () => {
    const key = fc
      .string({ unit: "binary", maxLength: 20 })
      .filter(
        (k) =>
          ![
            "action",
            "object",
            "vendor",
            "product",
            "instance_id",
            "instanceID",
            "instanceId",
            "label",
            "score",
            "eventId",
            "timestamp",
            "sentAt",
          ].includes(k),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 6 }), { maxKeys: 12 }),
        fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
        async (extra, label) => {
          const sent = { ...validEvent(), label, ...extra };
          const text = JSON.stringify(sent);
          const result = await checkResponse(
            await send("/collect/1/1/event", new TextEncoder().encode(text), {
              "content-type": "application/json",
            }),
          );
          if (result.status === 204) {
            const stored = t.store.events.get(result.eventId!)!;
            const expected: Record<string, unknown> = JSON.parse(text);
            for (const known of ["action", "object", "vendor", "product", "instance_id", "label"])
              delete expected[known];
            expect(JSON.stringify(stored.properties)).toBe(JSON.stringify(expected));
            expect(stored.label).toBe(label);
          } else expect(["invalid_event", "payload_too_large"]).toContain(result.code!);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("a corpus of nasty JSON", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const prefix = `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i"`;
  const corpus: [string, Uint8Array][] = [
    ["invalid UTF-8", new Uint8Array([...enc(`${prefix},"x":"`), 0xc3, 0x28, ...enc('"}')])],
    [
      "overlong UTF-8 for NUL",
      new Uint8Array([...enc(`${prefix},"x":"`), 0xc0, 0x80, ...enc('"}')]),
    ],
    [
      "UTF-16 surrogate encoded in UTF-8",
      new Uint8Array([...enc(`${prefix},"x":"`), 0xed, 0xa0, 0x80, ...enc('"}')]),
    ],
    ["lone surrogate escapes", enc(`${prefix},"x":"\\ud800","y":"\\udfff a"}`)],
    ["huge numbers", enc(`${prefix},"a":1e400,"b":-1e400,"c":123456789012345678901234567890}`)],
    ["tiny numbers", enc(`${prefix},"a":1e-400,"b":5e-324}`)],
    ["deep nesting", enc(`${prefix},"d":${"[".repeat(10000)}${"]".repeat(10000)}}`)],
    ["deep objects", enc(`${prefix},"d":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`)],
    ["duplicate keys", enc(`${prefix},"action":"submit","x":1,"x":2}`)],
    ["BOM", new Uint8Array([0xef, 0xbb, 0xbf, ...enc(`${prefix}}`)])],
    ["two BOMs", new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...enc(`${prefix}}`)])],
    ["UTF-16 BOM", new Uint8Array([0xff, 0xfe, ...enc(`${prefix}}`)])],
    ["NUL bytes in strings", enc(`${prefix},"x":"a\\u0000b"}`)],
    ["raw NUL byte", new Uint8Array([...enc(prefix), 0x00, ...enc("}")])],
    ["trailing garbage", enc(`${prefix}} {}`)],
    ["trailing comma", enc(`${prefix},}`)],
    ["single quotes", enc("{'action':'view'}")],
    ["NaN and Infinity", enc(`${prefix},"a":NaN,"b":Infinity}`)],
    [
      "__proto__ and constructor",
      enc(`${prefix},"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}`),
    ],
    ["very long key", enc(`${prefix},"${"k".repeat(60000)}":1}`)],
    ["whitespace only", enc(" \n\t\r ")],
    ["empty", new Uint8Array(0)],
    ["null", enc("null")],
    ["a number", enc("1")],
    ["control characters", enc(`${prefix},"x":"\\b\\f\\n\\r\\t"}`)],
    ["emoji and combining marks", enc(`${prefix},"x":"👩‍👩‍👧 é ﷽ Z̤͔ͧ̑̓"}`)],
  ];
  for (const [name, body] of corpus)
    test(`${name}: no 5xx, a stable code or a faithful store`, async () => {
      const result = await checkResponse(
        await send("/collect/1/1/event", body, { "content-type": "application/json" }),
      );
      if (result.status === 204) {
        const stored = t.store.events.getJson(result.eventId!)!;
        const sent = JSON.parse(new TextDecoder().decode(body).replace(/^\uFEFF/, "")) as Record<
          string,
          unknown
        >;
        for (const [k, v] of Object.entries(sent))
          if (!["action", "object", "vendor", "product", "instance_id"].includes(k))
            expect(
              (JSON.parse(stored) as { properties: Record<string, unknown> }).properties[k],
            ).toEqual(v);
      }
      expect((await t.collect(validEvent())).status).toBe(204); // and it keeps serving
    });
});
