import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { retryAfterMs, signBody, WebhookSink } from "../../server/sinks/webhook/webhook-sink.ts";
import { makeItems } from "../helpers/events.ts";
import { freePort } from "../helpers/ports.ts";
import { startReceiver, verifySignature, type Receiver } from "../helpers/receiver.ts";

let receiver: Receiver;
beforeAll(() => {
  receiver = startReceiver("topsecret");
});
afterAll(() => receiver.stop());

const sink = (timeoutMs = 2000) =>
  new WebhookSink({
    name: "hook",
    url: receiver.url,
    headers: { "x-tenant": "main-street" },
    timeoutMs,
    secret: "topsecret",
  });

describe("webhook sink", () => {
  test("POSTs the batch as one JSON array with a signature the receiver verifies, and custom headers", async () => {
    receiver.mode = "ok";
    receiver.batches.length = 0;
    const items = makeItems(3, "signed");
    expect(await sink().send(items)).toEqual({ kind: "ok" });
    const batch = receiver.batches[0]!;
    expect(batch.signatureValid).toBe(true);
    expect(batch.events.map((e) => e.eventId)).toEqual(items.map((i) => i.eventId));
    expect(batch.headers.get("x-tenant")).toBe("main-street");
    expect(batch.headers.get("content-type")).toBe("application/json");
    expect(batch.headers.get("x-trackd-batch-size")).toBe("3");
  });

  test("signs HMAC-SHA256 of the exact body, so any change fails verification", () => {
    const body = '[{"eventId":"x"}]';
    const header = signBody("k", body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature("k", body, header)).toBe(true);
    expect(verifySignature("k", `${body} `, header)).toBe(false);
    expect(verifySignature("other", body, header)).toBe(false);
  });

  test("retries 503 honouring Retry-After, and 408, 429 and other 5xx", async () => {
    receiver.mode = "unavailable";
    receiver.retryAfter = "7";
    expect(await sink().send(makeItems(1))).toMatchObject({ kind: "retry", delayMs: 7000 });
    for (const status of [408, 429, 500, 502, 504]) {
      receiver.mode = status;
      expect(await sink().send(makeItems(1))).toMatchObject({
        kind: "retry",
        cause: expect.stringContaining(String(status)),
      });
    }
  });

  test("treats other 4xx as fatal", async () => {
    for (const status of [400, 401, 404, 410, 422]) {
      receiver.mode = status;
      expect(await sink().send(makeItems(1))).toMatchObject({
        kind: "fatal",
        cause: expect.stringContaining(String(status)),
      });
    }
  });

  test("retries when the receiver hangs past the timeout", async () => {
    receiver.mode = "hang";
    const started = Date.now();
    const outcome = await sink(300).send(makeItems(1));
    expect(outcome).toMatchObject({ kind: "retry", cause: expect.stringContaining("timed out") });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("retries when nothing listens", async () => {
    const closed = new WebhookSink({
      name: "hook",
      url: `http://127.0.0.1:${await freePort()}/`,
      headers: {},
      timeoutMs: 1000,
    });
    expect(await closed.send(makeItems(1))).toMatchObject({ kind: "retry" });
  });

  test("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1000)).toBe(60000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
