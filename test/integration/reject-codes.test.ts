/**
 * Every refusal the collect routes can give a client from outside, against the compiled
 * binary, and each one found in the reject log through the admin API: one refusal exit, so
 * no code is answered without being recorded. (Left out here, each for its reason, and tested
 * in process in collect.test.ts: storage_full, which is never written to the full store it
 * refuses for; storage_unavailable, which needs a commit to fail; shutting_down, which needs
 * a request arriving during shutdown; internal_error, which needs a bug.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { validEvent } from "../helpers/test-app.ts";
import { COLLECT_ERROR_CODES } from "../../server/errors.ts";

let trackd: Running;
const event = JSON.stringify(validEvent());

beforeAll(async () => {
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  const config = join(dir, "trackd.json");
  writeFileSync(
    config,
    JSON.stringify({
      limits: { maxBatchEvents: 2, maxBodyBytes: 4096 },
      rateLimits: { perTracker: { ratePerSecond: 0.01, burst: 2 } },
      registry: {
        unknownIds: "reject",
        accounts: [{ id: "1001", name: "Dealer" }],
        trackers: Array.from({ length: 20 }, (_, i) => ({
          id: String(i + 1),
          accountId: "1001",
          name: `Tracker ${i + 1}`,
          allowedOrigins: i + 1 === 7 ? ["https://dealer.example"] : [],
          ...(i + 1 >= 15 && i + 1 <= 17 && { serverAuth: "hmac" }),
        })),
      },
    }),
  );
  trackd = await startBinary(binary, dir, ["--data-dir", join(dir, "data"), "--config", config]);
}, 300000);
afterAll(() => killAll());

/** Posts to tracker `tid` of account 1001 (each case its own tracker: the rate limit is per tracker). */
const post = (tid: number, body: BodyInit, headers: Record<string, string> = {}, path = "event") =>
  fetch(`${trackd.url}/collect/1001/${tid}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

/** A body announced at 100 bytes, then the connection dropped after 10. */
function unreadable(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(trackd.port, "127.0.0.1", () => {
      socket.write(
        `POST /collect/1001/12/event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"action":`,
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 200);
    });
    socket.on("error", reject);
  });
}

describe("every refusal is in the reject log", () => {
  test("each code a client can cause, answered and recorded", async () => {
    const answers: Record<string, number> = {
      invalid_id: (await fetch(`${trackd.url}/collect/0/1/event`, { method: "POST", body: event }))
        .status,
      invalid_json: (await post(1, '{"action": "view",')).status,
      invalid_utf8: (await post(2, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).status,
      empty_body: (await post(3, "")).status,
      body_not_object: (await post(4, "[]")).status,
      body_not_array: (await post(5, "{}", {}, "events")).status,
      invalid_event: (await post(6, '{"action": "view"}')).status,
      origin_not_allowed: (await post(7, event, { origin: "https://other.example" })).status,
      unregistered_id: (
        await fetch(`${trackd.url}/collect/1002/1/event`, { method: "POST", body: event })
      ).status,
      invalid_encoding: (await post(8, "not gzip at all", { "content-encoding": "gzip" })).status,
      unsupported_encoding: (await post(10, event, { "content-encoding": "compress" })).status,
      unsupported_media_type: (await post(11, event, { "content-type": "application/xml" })).status,
      payload_too_large: (await post(13, JSON.stringify(validEvent({ label: "x".repeat(5000) }))))
        .status,
      too_many_events: (await post(14, `[${event},${event},${event}]`, {}, "events")).status,
    };
    for (let i = 0; i < 3; i++) answers.rate_limited = (await post(9, event)).status;
    answers.signature_required = (await post(15, event)).status;
    answers.invalid_signature = (
      await post(16, event, { "x-trackd-signature": "t=1,v1=x" })
    ).status;
    const made = await fetch(`${trackd.url}/admin/api/registry/trackers/1001/17/secrets`, {
      method: "POST",
      headers: adminAuth,
    });
    const { secret } = (await made.json()) as { secret: string };
    const old = Math.floor(Date.now() / 1000) - 3600;
    const v1 = createHmac("sha256", secret).update(`${old}.${event}`).digest("hex");
    answers.signature_expired = (
      await post(17, event, { "x-trackd-signature": `t=${old},v1=${v1}` })
    ).status;
    await unreadable();
    expect(answers).toEqual({
      invalid_id: 400,
      invalid_json: 400,
      invalid_utf8: 400,
      empty_body: 400,
      body_not_object: 400,
      body_not_array: 400,
      invalid_event: 400,
      origin_not_allowed: 403,
      unregistered_id: 400,
      invalid_encoding: 400,
      unsupported_encoding: 415,
      unsupported_media_type: 415,
      payload_too_large: 413,
      too_many_events: 413,
      rate_limited: 429,
      signature_required: 401,
      invalid_signature: 401,
      signature_expired: 401,
    });
    const caused = [...Object.keys(answers), "body_unreadable"];
    const untestable = ["storage_full", "storage_unavailable", "shutting_down", "internal_error"];
    expect([...caused, ...untestable].sort()).toEqual([...COLLECT_ERROR_CODES].sort());
    let recorded: string[] = [];
    for (let i = 0; i < 50 && !caused.every((c) => recorded.includes(c)); i++) {
      await Bun.sleep(100);
      const res = await fetch(`${trackd.url}/admin/api/rejects?limit=200`, { headers: adminAuth });
      recorded = ((await res.json()) as { rejects: { code: string }[] }).rejects.map((r) => r.code);
    }
    expect(caused.filter((c) => !recorded.includes(c))).toEqual([]);
  });
});
