/**
 * A real webhook receiver (Bun.serve on a free port) whose answers a test scripts: "ok",
 * "unavailable" (503 with Retry-After), "bad-request" (400) or "hang". It records every batch
 * and verifies the HMAC signature itself, the way a real receiver would.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Server } from "bun";

/** A mode, or a bare status code to answer with. */
export type ReceiverMode = "ok" | "unavailable" | "bad-request" | "hang" | number;

export interface Received {
  events: { eventId: string; instanceId: string }[];
  signatureValid: boolean | null;
  headers: Headers;
}

export interface Receiver {
  url: string;
  mode: ReceiverMode;
  retryAfter: string;
  batches: Received[];
  /** Every event ID received, in arrival order (duplicates kept). */
  eventIds(): string[];
  stop(): Promise<void>;
}

/** Verifies `X-Trackd-Signature: sha256=<hex>` against HMAC-SHA256(secret, raw body). */
export function verifySignature(secret: string, body: string, header: string | null): boolean {
  if (!header?.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(header.slice(7), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function startReceiver(secret?: string): Receiver {
  let server: Server<unknown>;
  const receiver: Receiver = {
    url: "",
    mode: "ok",
    retryAfter: "1",
    batches: [],
    eventIds: () => receiver.batches.flatMap((b) => b.events.map((e) => e.eventId)),
    stop: async () => {
      await server.stop(true);
    },
  };
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      if (typeof receiver.mode === "number")
        return new Response("scripted", {
          status: receiver.mode,
          headers: { "retry-after": receiver.retryAfter },
        });
      switch (receiver.mode) {
        case "hang":
          return new Promise<Response>(() => {}); // never answers: the sink's timeout must fire
        case "unavailable":
          return new Response("busy", {
            status: 503,
            headers: { "retry-after": receiver.retryAfter },
          });
        case "bad-request":
          return new Response("no", { status: 400 });
        case "ok":
          receiver.batches.push({
            events: JSON.parse(body) as Received["events"],
            signatureValid: secret
              ? verifySignature(secret, body, request.headers.get("x-trackd-signature"))
              : null,
            headers: request.headers,
          });
          return new Response(null, { status: 204 });
      }
    },
  });
  receiver.url = `http://127.0.0.1:${server.port}/hook`;
  return receiver;
}
