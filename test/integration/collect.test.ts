import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { TrackedEventSchema } from "../../server/events/event.model.ts";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { createApp } from "../../server/app.ts";
import { createLog } from "../../server/telemetry/log.ts";
import {
  BASE,
  BROWSER_UA,
  createTestApp,
  errorOf,
  testConfig,
  validEvent,
  type TestApp,
} from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function storedEvent(res: Response) {
  expect(res.status).toBe(204);
  const id = res.headers.get("x-event-id");
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const event = t.store.events.get(id!);
  expect(event).toBeDefined();
  expect(
    [...Value.Errors(TrackedEventSchema, event)].map((e) => `${e.path}: ${e.message}`),
  ).toEqual([]); // the documented format
  return event!;
}

describe("accepting events", () => {
  test("answers 204 with an empty body and X-Event-Id, and the event is stored", async () => {
    const res = await t.collect(validEvent({ label: "VDP view", score: 3.5, color: "red" }));
    expect(await res.clone().text()).toBe("");
    const event = await storedEvent(res);
    expect(event).toMatchObject({
      accountId: "1",
      trackerId: "1",
      action: "view",
      actionType: "standard",
      object: "vehicle",
      vendor: "Vendor A",
      product: "Product 1",
      instanceId: "abc123",
      label: "VDP view",
      score: 3.5,
      properties: { color: "red" },
      test: false,
      registry: { account: false, tracker: false, vendor: false },
      context: { ip: null, userAgent: null, origin: null, referer: null, source: "server" },
    });
    expect(new Date(event.receivedAt).toISOString()).toBe(event.receivedAt);
  });

  test("folds standard actions to lowercase and keeps custom actions as sent", async () => {
    for (const [sent, stored, type] of [
      ["View", "view", "standard"],
      ["SUBMIT", "submit", "standard"],
      ["aSsOcIaTe", "associate", "standard"],
      ["LeadScored", "LeadScored", "custom"],
    ] as const) {
      const event = await storedEvent(await t.collect(validEvent({ action: sent })));
      expect([event.action, event.actionType]).toEqual([stored, type]);
    }
  });

  test("accepts instanceID and instanceId as spellings of instance_id", async () => {
    for (const key of ["instanceID", "instanceId"]) {
      const body: Record<string, unknown> = validEvent();
      delete body.instance_id;
      body[key] = "chat-42";
      const event = await storedEvent(await t.collect(body));
      expect(event.instanceId).toBe("chat-42");
      expect(event.properties).toEqual({});
    }
    const same = await storedEvent(await t.collect(validEvent({ instanceID: "abc123" })));
    expect(same.instanceId).toBe("abc123");
  });

  test("rejects two spellings of the instance ID with different values, naming both", async () => {
    const res = await t.collect(validEvent({ instanceId: "other" }));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_event");
    expect(error.details.map((d) => [d.path, d.code])).toEqual([
      ["/instance_id", "conflict"],
      ["/instanceId", "conflict"],
    ]);
  });

  test("accepts text/plain (sendBeacon) and a body with no Content-Type", async () => {
    await storedEvent(
      await t.collect(validEvent(), { headers: { "content-type": "text/plain;charset=UTF-8" } }),
    );
    const bytes = new TextEncoder().encode(JSON.stringify(validEvent()));
    await storedEvent(await t.collect(bytes, { headers: { "content-type": "" } }));
  });

  test("accepts gzip and deflate (zlib and raw) bodies", async () => {
    const json = JSON.stringify(validEvent({ via: "compressed" }));
    for (const [encoding, bytes] of [
      ["gzip", gzipSync(json)],
      ["deflate", deflateSync(json)],
      ["deflate", deflateRawSync(json)],
    ] as const) {
      const event = await storedEvent(
        await t.collect(new Uint8Array(bytes), { headers: { "content-encoding": encoding } }),
      );
      expect(event.properties).toEqual({ via: "compressed" });
    }
  });

  test("round-trips unicode and emoji byte for byte", async () => {
    const text = "Šárka 😀 中文 \u200d 👩‍👩‍👧 \ud83d\ude00 ﷽";
    const body = validEvent({ label: text, nested: { [text]: [text] } });
    const event = await storedEvent(await t.collect(body));
    expect(event.label).toBe(text);
    expect(event.properties).toEqual({ nested: { [text]: [text] } });
    expect(JSON.stringify(event.properties.nested)).toBe(JSON.stringify(body.nested));
  });

  test("refuses unpaired surrogates wherever they are, naming each place: they are not Unicode text", async () => {
    const res = await t.collect(
      `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"chat-\\ud800","label":"a\\udc00","x\\ud800":1,"nested":{"list":["ok","\\ud83d"]}}`,
    );
    expect(res.status).toBe(400);
    const details = (await errorOf(res)).details;
    expect(details.map((d) => [d.path, d.code])).toEqual([
      ["/instance_id", "lone_surrogate"],
      ["/label", "lone_surrogate"],
      ["/x\ud800", "lone_surrogate"],
      ["/nested/list/1", "lone_surrogate"],
    ]);
  });

  test("refuses integers beyond 2^53 the same way everywhere, score included, and keeps floats written with an exponent", async () => {
    const refused = await t.collect(
      `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","score":9007199254740993,"n":{"big":-12345678901234567890}}`,
    );
    expect((await errorOf(refused)).details.map((d) => [d.path, d.code])).toEqual([
      ["/score", "unsafe_integer"],
      ["/n/big", "unsafe_integer"],
    ]);
    const floats = await storedEvent(
      await t.collect(
        `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","score":1e22,"f":1.5e300,"g":12345678901234567.5,"safe":9007199254740991}`,
      ),
    );
    expect([floats.score, floats.properties.f, floats.properties.safe]).toEqual([
      1e22, 1.5e300, 9007199254740991,
    ]);
    const get = await t.app.handle(
      new Request(
        `${BASE}/collect/1/1/event?action=view&object=o&vendor=v&product=p&instance_id=i&score=9007199254740993`,
      ),
    );
    expect((await errorOf(get)).details[0]).toMatchObject({
      path: "/score",
      code: "unsafe_integer",
    });
  });

  test("takes the last of a repeated key, but refuses an event that names its eventId twice", async () => {
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    const last = await storedEvent(
      await t.collect(
        `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","label":"first","label":"second","n":{"eventId":1,"eventId":2}}`,
      ),
    );
    expect([last.label, last.properties.n]).toEqual(["second", { eventId: 2 }]);
    const twice = await t.collect(
      `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","eventId":"${a}", "eventId" : "${b}"}`,
    );
    expect((await errorOf(twice)).details).toEqual([
      {
        path: "/eventId",
        code: "conflict",
        message: "eventId is given more than once in one event.",
      },
    ]);
    const before = t.store.events.count();
    const batch = await t.app.handle(
      new Request(`${BASE}/collect/1/1/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `[${JSON.stringify(validEvent({ eventId: a }))},{"eventId":"${a}","action":"a","object":"o","vendor":"v","product":"p","instance_id":"i","eventId":"${b}"}]`,
      }),
    );
    expect((await errorOf(batch)).details[0]!.path).toBe("/1/eventId");
    expect(t.store.events.count()).toBe(before);
  });

  test("keeps __proto__ and constructor keys as plain data without polluting anything", async () => {
    const raw = `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"nested":{"__proto__":{"polluted":true}}}`;
    const event = await storedEvent(await t.collect(raw));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(event.properties, "__proto__")).toBe(true);
    expect(t.store.events.getJson(event.eventId)).toContain(`"__proto__":{"polluted":true}`);
    expect(t.store.events.getJson(event.eventId)).toContain(
      `"nested":{"__proto__":{"polluted":true}}`,
    );
  });

  test("trims whitespace around required fields", async () => {
    const event = await storedEvent(
      await t.collect(validEvent({ vendor: "  Vendor A \n", instance_id: " abc " })),
    );
    expect([event.vendor, event.instanceId]).toEqual(["Vendor A", "abc"]);
  });

  test("stores oa_track=false events flagged as test events", async () => {
    const event = await storedEvent(await t.collect(validEvent(), { query: "?oa_track=false" }));
    expect(event.test).toBe(true);
  });

  test("records the client context from headers", async () => {
    const event = await storedEvent(
      await t.collect(validEvent(), {
        headers: {
          origin: "https://dealer.example",
          referer: "https://dealer.example/vdp",
          "user-agent": BROWSER_UA,
        },
      }),
    );
    expect(event.context).toEqual({
      ip: null,
      userAgent: BROWSER_UA,
      origin: "https://dealer.example",
      referer: "https://dealer.example/vdp",
      source: "browser",
    });
  });

  test("tells browsers from servers: the SDK's ?sdk=, Origin or Sec-Fetch-Site/Dest mean a browser; Sec-Fetch-Mode alone (Node's fetch) does not", async () => {
    const sourceOf = async (headers: Record<string, string>, query = "") =>
      (await storedEvent(await t.collect(validEvent(), { headers, query }))).context.source;
    expect(
      await sourceOf({ "sec-fetch-mode": "cors", "user-agent": "node", "accept-language": "*" }),
    ).toBe("server");
    expect(await sourceOf({})).toBe("server");
    expect(await sourceOf({}, "?sdk=web-0.2.0")).toBe("browser");
    expect(
      await sourceOf({
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "cors",
        "sec-fetch-dest": "empty",
      }),
    ).toBe("browser");
    expect(await sourceOf({ "sec-fetch-dest": "image" })).toBe("browser");
    expect(await sourceOf({ origin: "https://dealer.example" })).toBe("browser");
  });

  test("keeps identifiers among the properties, and refuses a raw email as a hash or an identifier that is not a string", async () => {
    const hash = "A".repeat(64);
    const event = await storedEvent(
      await t.collect(
        validEvent({
          deviceId: "d-1",
          visitId: "v-1",
          userId: "u-1",
          emailSha256: hash,
          phoneSha256: "0".repeat(64),
        }),
      ),
    );
    expect(event.properties).toEqual({
      deviceId: "d-1",
      visitId: "v-1",
      userId: "u-1",
      emailSha256: hash,
      phoneSha256: "0".repeat(64),
    });
    const refused = await t.collect(
      validEvent({
        emailSha256: "shopper@example.com",
        phoneSha256: "abc",
        deviceId: 42,
        userId: "u".repeat(300),
      }),
    );
    expect(refused.status).toBe(400);
    const details = (await errorOf(refused)).details;
    expect(details.map((d) => [d.path, d.code])).toEqual([
      ["/deviceId", "invalid_type"],
      ["/userId", "too_long"],
      ["/emailSha256", "invalid_value"],
      ["/phoneSha256", "invalid_value"],
    ]);
    expect(details[2]!.message).toContain("never the value itself");
  });
});

describe("oa_debug", () => {
  test("answers 200 with the normalized event and warnings, and stores nothing", async () => {
    const before = t.store.events.count();
    const res = await t.collect(validEvent({ action: "Zap", instance_id: " x " }), {
      query: "?oa_debug=true",
    });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      valid: boolean;
      event: { action: string; test: boolean };
      warnings: { code: string }[];
      wouldRespond: { status: number };
    };
    expect(report.valid).toBe(true);
    expect(report.wouldRespond.status).toBe(204);
    expect(report.event.action).toBe("Zap");
    expect(report.event.test).toBe(false); // as it would be stored: not a test event
    expect(report.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(["custom_action", "trimmed", "unregistered"]),
    );
    expect(t.store.events.count()).toBe(before);
  });

  test("shows a test event (oa_track=false) as one", async () => {
    const res = await t.collect(validEvent(), { query: "?oa_debug=true&oa_track=false" });
    const report = (await res.json()) as {
      event: { test: boolean };
      received: { test: boolean; aid: string; tid: string; bytes: number };
    };
    expect(report.event.test).toBe(true);
    expect(report.received).toMatchObject({ test: true, aid: "1", tid: "1" });
    expect(report.received.bytes).toBeGreaterThan(0);
  });

  test("lists every problem of an invalid event with 200 and records no rejection", async () => {
    await t.store.rejects.written(); // earlier tests' refusals are committed first
    const rejectsBefore = t.store.rejects.list({ limit: 500 }).length;
    const res = await t.collect({ action: 5 }, { query: "?oa_debug=true" });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      valid: boolean;
      problems: { path: string }[];
      wouldRespond: { status: number; code: string };
    };
    expect(report.valid).toBe(false);
    expect(report.wouldRespond).toEqual({ status: 400, code: "invalid_event" });
    expect(report.problems.map((p) => p.path)).toEqual([
      "/action",
      "/object",
      "/vendor",
      "/product",
      "/instance_id",
    ]);
    await t.store.rejects.written();
    expect(t.store.rejects.list({ limit: 500 }).length).toBe(rejectsBefore);
  });
});

describe("rejecting invalid events", () => {
  test("lists every missing required field at once", async () => {
    const res = await t.collect({});
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_event");
    expect(error.details).toEqual([
      { path: "/action", code: "required", message: "action is required." },
      { path: "/object", code: "required", message: "object is required." },
      { path: "/vendor", code: "required", message: "vendor is required." },
      { path: "/product", code: "required", message: "product is required." },
      {
        path: "/instance_id",
        code: "required",
        message: "instance_id (or instanceID / instanceId) is required.",
      },
    ]);
  });

  test("lists every required field of the wrong type or empty", async () => {
    const res = await t.collect({
      action: 1,
      object: null,
      vendor: ["a"],
      product: { p: 1 },
      instance_id: "   ",
      label: 7,
      score: "high",
    });
    const error = await errorOf(res);
    expect(error.details.map((d) => [d.path, d.code])).toEqual([
      ["/action", "invalid_type"],
      ["/object", "invalid_type"],
      ["/vendor", "invalid_type"],
      ["/product", "invalid_type"],
      ["/instance_id", "empty"],
      ["/label", "invalid_type"],
      ["/score", "invalid_type"],
    ]);
  });

  test("rejects a missing field alongside a wrong-typed one in one response", async () => {
    const body: Record<string, unknown> = validEvent({ vendor: true });
    delete body.product;
    const error = await errorOf(await t.collect(body));
    expect(error.details.map((d) => [d.path, d.code])).toEqual([
      ["/vendor", "invalid_type"],
      ["/product", "required"],
    ]);
  });

  test("answers 400 invalid_json for malformed JSON, saying where it goes wrong", async () => {
    const cases: [string, number, number, number][] = [
      ['{"action": "view",', 18, 1, 19], // ends too early
      ['{"action": "view" "object": "x"}', 18, 1, 19], // a comma missing
      ['{\n  "action": "view",\n  "score": 01\n}', 34, 3, 13], // a leading zero
      ['{"label": "tab\there"}', 10, 1, 11], // a raw control character in a string
      ["{'action': 'view'}", 1, 1, 2], // single quotes
      ['{"a": 1} x', 9, 1, 10], // something after the value
    ];
    for (const [body, position, line, column] of cases) {
      const res = await t.collect(body);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("invalid_json");
      expect(error.details).toHaveLength(1);
      expect(error.details[0]).toMatchObject({ path: "", code: "syntax", position });
      expect(error.details[0]!.message).toContain(`(at line ${line}, column ${column})`);
    }
  });

  test("answers 400 body_not_object for an array, a string, a number and null", async () => {
    for (const body of ["[]", '"view"', "42", "null", "[{}]"]) {
      const res = await t.collect(body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("body_not_object");
    }
  });

  test("answers 400 empty_body for an empty or blank body", async () => {
    for (const body of ["", "  \n "])
      expect((await errorOf(await t.collect(body))).code).toBe("empty_body");
  });

  test("answers 400 invalid_utf8 for bytes that are not UTF-8", async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"action":"'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}'),
    ]);
    const res = await t.collect(bytes);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("invalid_utf8");
  });

  test("accepts a UTF-8 byte order mark", async () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode(JSON.stringify(validEvent())),
    ]);
    expect((await t.collect(bytes)).status).toBe(204);
  });

  test("rejects nesting deeper than the limit with too_deep at the path where it happens", async () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const error = await errorOf(await t.collect(validEvent({ deep })));
    expect(error.code).toBe("invalid_event");
    expect(error.details).toHaveLength(1);
    expect(error.details[0]!.code).toBe("too_deep");
    expect(error.details[0]!.path).toBe(`/deep${"/d".repeat(15)}`);
  });

  test("rejects pathologically deep JSON with 400, without crashing", async () => {
    const array = await t.collect("[".repeat(32000) + "]".repeat(32000));
    expect(array.status).toBe(400);
    const object = await t.collect(
      JSON.stringify(validEvent()).slice(0, -1) +
        ',"a":' +
        "[".repeat(32000) +
        "]".repeat(32000) +
        "}",
    );
    expect(object.status).toBe(400);
    expect((await errorOf(object)).details[0]!.code).toBe("too_deep");
    expect((await t.collect(validEvent())).status).toBe(204);
  });

  test("rejects over-long fields, keys and strings, too many properties, and inexact numbers, each with its own code", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [validEvent({ action: "a".repeat(257) }), "/action", "too_long"],
      [validEvent({ label: "l".repeat(1025) }), "/label", "too_long"],
      [validEvent({ note: "n".repeat(8193) }), "/note", "too_long"],
      [validEvent({ ["k".repeat(129)]: 1 }), `/${"k".repeat(129)}`, "key_too_long"],
      [validEvent({ big: 2 ** 60 }), "/big", "unsafe_integer"],
      [
        validEvent(Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`p${i}`, i]))),
        "",
        "too_many_properties",
      ],
    ];
    for (const [body, path, code] of cases) {
      const error = await errorOf(await t.collect(body));
      expect(error.details.map((d) => [d.path, d.code])).toContainEqual([path, code]);
    }
    const overflow = await errorOf(
      await t.collect(
        `{"action":"view","object":"o","vendor":"v","product":"p","instance_id":"i","n":1e400}`,
      ),
    );
    expect(overflow.details).toContainEqual(
      expect.objectContaining({ path: "/n", code: "not_finite" }),
    );
  });

  test("escapes property names in detail paths as JSON Pointers", async () => {
    const error = await errorOf(await t.collect(validEvent({ "a/b~c": { x: 2 ** 60 } })));
    expect(error.details[0]!.path).toBe("/a~1b~0c/x");
  });
});

describe("path IDs", () => {
  const good = [
    "1",
    "42",
    "999999999999999999",
    "123e4567-e89b-12d3-a456-426614174000",
    "123E4567-E89B-12D3-A456-426614174000",
  ];
  const bad = [
    "0",
    "-1",
    "+1",
    "01",
    "007",
    "1.5",
    "1e3",
    "abc",
    "1234567890123456789",
    "00000000-0000-0000-0000-000000000000",
    "123e4567-e89b-12d3-a456-42661417400",
    "123e4567e89b12d3a456426614174000",
    "x".repeat(5000),
    "%20",
  ];

  test("accepts positive integers and UUIDs in either case, storing UUIDs lowercase", async () => {
    for (const id of good) {
      const event = await storedEvent(await t.collect(validEvent(), { aid: id, tid: id }));
      expect(event.accountId).toBe(id.toLowerCase());
      expect(event.trackerId).toBe(id.toLowerCase());
    }
  });

  test("rejects zero, signs, leading zeros, junk and very long IDs with 400 naming the parameter", async () => {
    for (const id of bad) {
      const res = await t.collect(validEvent(), { aid: id, tid: "1" });
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("invalid_id");
      expect(error.details).toEqual([expect.objectContaining({ path: "aid", code: "invalid_id" })]);
    }
    const both = await errorOf(await t.collect(validEvent(), { aid: "0", tid: "x" }));
    expect(both.details.map((d) => d.path)).toEqual(["aid", "tid"]);
  });
});

describe("sizes, types and encodings", () => {
  test("answers 413 for a body over the limit", async () => {
    const res = await t.collect(validEvent({ pad: "x".repeat(70000) }));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("payload_too_large");
  });

  test("reads a chunked body of unknown length, and stops reading one that passes the limit", async () => {
    const stream = (parts: string[]) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
          controller.close();
        },
      });
    const json = JSON.stringify(validEvent({ via: "chunks" }));
    const ok = await t.app.handle(
      new Request("http://localhost/collect/1/1/event", {
        method: "POST",
        body: stream([json.slice(0, 10), json.slice(10)]),
      }),
    );
    await storedEvent(ok);
    const big = await t.app.handle(
      new Request("http://localhost/collect/1/1/event", {
        method: "POST",
        body: stream(Array.from({ length: 100 }, () => "x".repeat(1000))),
      }),
    );
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe("payload_too_large");
  });

  test("answers 413 for a gzip bomb that inflates past the limit", async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.byteLength).toBeLessThan(65536);
    const res = await t.collect(new Uint8Array(bomb), { headers: { "content-encoding": "gzip" } });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("payload_too_large");
  });

  test("answers 400 invalid_encoding for a body that is not what Content-Encoding says", async () => {
    const res = await t.collect(JSON.stringify(validEvent()), {
      headers: { "content-encoding": "gzip" },
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("invalid_encoding");
  });

  test("answers 415 for other content types and encodings", async () => {
    for (const headers of [
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "multipart/form-data; boundary=x" },
      { "content-type": "text/plain; charset=iso-8859-1" },
    ]) {
      const res = await t.collect(validEvent(), { headers });
      expect(res.status).toBe(415);
      expect((await errorOf(res)).code).toBe("unsupported_media_type");
    }
    for (const encoding of ["br", "zstd", "gzip, br"]) {
      const res = await t.collect(validEvent(), { headers: { "content-encoding": encoding } });
      expect(res.status).toBe(415);
      expect((await errorOf(res)).code).toBe("unsupported_encoding");
    }
  });
});

describe("routes and CORS", () => {
  test("answers the CORS preflight for any origin", async () => {
    const res = await t.app.handle(
      new Request("http://localhost/collect/1/1/event", {
        method: "OPTIONS",
        headers: {
          origin: "https://dealer.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
      "content-type",
    );
  });

  test("sends CORS headers on success and on errors, exposing X-Event-Id", async () => {
    const ok = await t.collect(validEvent(), { headers: { origin: "https://dealer.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(ok.headers.get("access-control-expose-headers")).toContain("X-Event-Id");
    const bad = await t.collect({}, { headers: { origin: "https://dealer.example" } });
    expect(bad.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("answers 405 with Allow for other methods on the collect routes", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const res = await t.app.handle(new Request("http://localhost/collect/1/1/event", { method }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, POST, OPTIONS");
      expect((await errorOf(res)).code).toBe("method_not_allowed");
    }
  });

  test("answers 404 in the envelope for unknown routes", async () => {
    for (const path of ["/nope", "/collect/1/1", "/collect/1/1/events/x", "/collect/1/event"]) {
      const res = await t.app.handle(
        new Request(`http://localhost${path}`, { method: "POST", body: "{}" }),
      );
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe("not_found");
    }
  });

  test("answers 503 with Retry-After to new events while shutting down, and readyz says draining", async () => {
    const draining = await createTestApp({}, { draining: () => true });
    const res = await draining.collect(validEvent());
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await errorOf(res)).code).toBe("shutting_down");
    await draining.store.rejects.written();
    expect(draining.store.rejects.list({ limit: 5 }).map((r) => r.code)).toEqual(["shutting_down"]); // recorded like every refusal
    expect((await draining.app.handle(new Request("http://localhost/readyz"))).status).toBe(503);
    expect((await draining.app.handle(new Request("http://localhost/healthz"))).status).toBe(200);
    await draining.close();
  });

  test("answers 503 storage_unavailable with Retry-After when the store cannot commit, logs it and records it", async () => {
    const failing = await createTestApp();
    const lines: string[] = [];
    const store = {
      ...failing.store,
      events: Object.assign(Object.create(failing.store.events), {
        append: () => Promise.reject(new Error("MDB_MAP_FULL: injected fault")),
      }),
    };
    const app = createApp({
      config: testConfig({ dataDir: failing.dir }),
      store,
      adminToken: "x",
      log: createLog("info", (l) => lines.push(l)),
    });
    const res = await app.handle(
      new Request("http://localhost/collect/1/1/event", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validEvent()),
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await errorOf(res)).code).toBe("storage_unavailable");
    expect(lines.join()).toContain("MDB_MAP_FULL: injected fault");
    // Recorded like every refusal, with the body it could not store.
    await failing.store.rejects.written();
    const [recorded] = failing.store.rejects.list({ limit: 5 });
    expect(recorded).toMatchObject({ code: "storage_unavailable", status: 503 });
    expect(recorded!.sample).toContain('"action":"view"');
    await failing.close();
  });

  test("reports health and readiness", async () => {
    expect((await t.app.handle(new Request("http://localhost/healthz"))).status).toBe(200);
    const ready = await t.app.handle(new Request("http://localhost/readyz"));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });
});
