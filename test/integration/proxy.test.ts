/**
 * Pipelined HTTP/1.1: every request on a connection answered, in order. The compiled binary
 * alone cannot (Bun 1.4.5 closes the connection when a request arrives while the previous
 * answer awaits its commit: Bun pull requests 33664, 35036, 38128, 43273), so it is checked
 * as a known failure that will flip when Bun is fixed; behind nginx with docs/nginx-trackd.conf
 * (run as it is, with a certificate made here by openssl) it holds, for random mixes of valid
 * and invalid requests; and the admin session cookie is Secure there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as tcpConnect, type Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import fc from "fast-check";
import {
  BINARY_TOKEN,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { startNginx, type Nginx } from "../helpers/nginx.ts";
import { waitFor } from "../helpers/ports.ts";
let trackd: Running;
let nginx: Nginx;
let proxyPort = 0;

const event = (instance: string) =>
  JSON.stringify({
    action: "view",
    object: "page",
    vendor: "V",
    product: "P",
    instance_id: instance,
  });
const post = (body: string, close = false) =>
  `POST /collect/1/1/event HTTP/1.1\r\nHost: trackd.example.com\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? "Connection: close\r\n" : ""}\r\n${body}`;
const get = (path: string, close = false) =>
  `GET ${path} HTTP/1.1\r\nHost: trackd.example.com\r\n${close ? "Connection: close\r\n" : ""}\r\n`;

/** The kinds of request a pipeline mixes, and the status each must get. */
const KINDS = {
  valid: { request: (close: boolean) => post(event("pipelined"), close), status: 204 },
  invalid: { request: (close: boolean) => post('{"action":"view"}', close), status: 400 },
  broken: { request: (close: boolean) => post("{oops", close), status: 400 },
  health: { request: (close: boolean) => get("/healthz", close), status: 200 },
  missing: { request: (close: boolean) => get("/nope", close), status: 404 },
} as const;
type Kind = keyof typeof KINDS;

/** Writes every request in one write, reads until the server closes, returns the status codes in order. */
function pipeline(socket: Socket, kinds: Kind[]): Promise<number[]> {
  const payload = kinds.map((k, i) => KINDS[k].request(i === kinds.length - 1)).join("");
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => socket.destroy(), 10000);
    socket.on("data", (d) => (out += d.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve([...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])));
    });
    socket.on("error", reject);
    socket.write(payload);
  });
}

const direct = (kinds: Kind[]) => pipeline(tcpConnect(trackd.port, "127.0.0.1"), kinds);
const proxied = (kinds: Kind[]) =>
  pipeline(
    tlsConnect({
      host: "127.0.0.1",
      port: proxyPort,
      servername: "trackd.example.com",
      rejectUnauthorized: false,
    }),
    kinds,
  );

beforeAll(async () => {
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  trackd = await startBinary(binary, dir, [
    "--data-dir",
    join(dir, "data"),
    "--trusted-proxies",
    "127.0.0.1",
  ]);

  nginx = await startNginx(trackd.port);
  proxyPort = nginx.port;
  await waitFor("nginx", async () => (await proxied(["health"]).catch(() => [])).length === 1);
}, 120000);

afterAll(() => {
  nginx?.stop();
  killAll();
});

describe("pipelined requests", () => {
  test("behind nginx: valid and invalid requests pipelined on one connection are each answered, in order", async () => {
    const kinds: Kind[] = ["valid", "invalid", "health", "broken", "valid", "missing", "valid"];
    expect(await proxied(kinds)).toEqual(kinds.map((k) => KINDS[k].status));
  });

  test("behind nginx: any mix, any length", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...(Object.keys(KINDS) as Kind[])), {
          minLength: 1,
          maxLength: 12,
        }),
        async (kinds) => {
          expect(await proxied(kinds)).toEqual(kinds.map((k) => KINDS[k].status));
        },
      ),
      { numRuns: 25 },
    );
  }, 60000);

  // Known failure (Bun 1.4.5, upstream: oven-sh/bun pull requests 33664, 35036, 38128, 43273):
  // when this starts passing, the workaround above is no longer needed; remove `.failing`.
  test.failing("the binary alone answers a request pipelined behind an event it is storing", async () => {
    const kinds: Kind[] = ["valid", "health"];
    expect(await direct(kinds)).toEqual([204, 200]);
  });

  test("the binary alone answers pipelined requests that need no commit, in order", async () => {
    const kinds: Kind[] = ["health", "missing", "invalid", "health"];
    expect(await direct(kinds)).toEqual(kinds.map((k) => KINDS[k].status));
  });

  test("behind nginx over TLS, the admin session cookie is Secure and the login works from the page's origin", async () => {
    const origin = `https://127.0.0.1:${proxyPort}`;
    const res = await fetch(`${origin}/admin/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ token: BINARY_TOKEN }),
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
  });
});
