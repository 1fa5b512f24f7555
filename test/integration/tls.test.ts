/**
 * HTTPS in the binary: a certificate made by openssl, events posted over TLS by Bun's fetch,
 * Node's https client and curl, and a renewed certificate served after SIGHUP without a restart
 * (a bad renewal keeps the old one) while a keep-alive client posting across renewals loses
 * nothing; the admin API over HTTPS. Start-up refuses a key that is not the certificate's, and
 * a certificate expired or not valid yet.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { type Certificate, makeCertificate } from "../helpers/certificate.ts";
import { waitFor } from "../helpers/ports.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir, validEvent } from "../helpers/test-app.ts";
import { readTlsFiles } from "../../server/http/tls-files.ts";

let trackd: Running;
let first: Certificate;
let renewed: Certificate;
let live: Certificate;
let base: string;
const aid = "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b";
const event = (instance: string) => JSON.stringify(validEvent({ instance_id: instance }));

/** The common name of the certificate the server presents to a new connection. */
function servedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(Array.isArray(cn) ? cn[0] : cn));
    });
    socket.on("error", reject);
  });
}

/** POSTs one event with Bun's fetch, trusting only `ca`. */
async function post(instance: string, ca: Certificate): Promise<Response> {
  return fetch(`${base}/collect/${aid}/1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: event(instance),
    tls: { ca: readFileSync(ca.cert, "utf8") },
  });
}

beforeAll(async () => {
  const certs = tempDir("trackd-tls-");
  first = makeCertificate(certs, "first", "first.trackd.test");
  renewed = makeCertificate(certs, "renewed", "renewed.trackd.test");
  // The files the config names; the test renews them in place, as certbot or an ACME client would.
  live = { cert: join(certs, "live.pem"), key: join(certs, "live.key") };
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  await buildBinary();
  const { dir, binary } = await binaryInEmptyDir();
  trackd = await startBinary(binary, dir, [
    "--data-dir",
    join(dir, "data"),
    "--tls.cert-file",
    live.cert,
    "--tls.key-file",
    live.key,
    // A retired listener (after SIGHUP) serves its connections this long: the least allowed.
    "--idle-timeout-seconds",
    "6",
  ]);
  base = `https://localhost:${trackd.port}`;
});
afterAll(() => killAll());

describe("HTTPS", () => {
  test("takes events over TLS from Bun's fetch, Node's https client and curl", async () => {
    expect(trackd.logs()).toContain('"subject":"CN=first.trackd.test"');
    expect(trackd.logs()).toContain(`"url":"https://127.0.0.1:${trackd.port}"`);
    expect((await post("fetch-over-tls", first)).status).toBe(204);

    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${base}/collect/${aid}/1/event`,
        {
          method: "POST",
          ca: readFileSync(first.cert),
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(event("node-https"));
    });
    expect(status).toBe(204);

    const curl = requireCommand("curl", "curl");
    const run = Bun.spawnSync([
      curl,
      "-sS",
      "--cacert",
      first.cert,
      "-o",
      "/dev/null",
      "--http2", // Bun.serve speaks HTTP/1.1 only: curl asks for h2 over ALPN and falls back
      "-w",
      "%{http_version} %{http_code}",
      "-H",
      "content-type: application/json",
      "--data",
      event("curl-over-tls"),
      `${base}/collect/${aid}/1/event`,
    ]);
    expect(run.stderr.toString()).toBe("");
    expect(run.stdout.toString()).toBe("1.1 204");
  });

  test("serves a renewed certificate after SIGHUP, to new connections, without a restart", async () => {
    copyFileSync(renewed.cert, live.cert);
    copyFileSync(renewed.key, live.key);
    trackd.proc.kill("SIGHUP");
    await waitFor("the reload", () => trackd.logs().includes('"msg":"certificate reloaded"'));
    // The previous listener answers its own connections until the idle timeout, then stops:
    // from then on every new connection gets the renewed certificate.
    await Bun.sleep(6500);
    for (let i = 0; i < 12; i++) expect(await servedName(trackd.port)).toBe("renewed.trackd.test");
    expect((await post("after-reload", renewed)).status).toBe(204);
    const read = await fetch(`${base}/admin/api/events?accountId=${aid}`, {
      headers: adminAuth,
      tls: { ca: readFileSync(renewed.cert, "utf8") },
    });
    const { events } = (await read.json()) as { events: { instanceId: string }[] };
    expect(events.map((e) => e.instanceId).sort()).toEqual(
      ["after-reload", "curl-over-tls", "fetch-over-tls", "node-https"].sort(),
    );
    expect(trackd.proc.exitCode).toBeNull();
  });

  test("keeps the current certificate when the renewed key does not match", async () => {
    copyFileSync(first.cert, live.cert); // the renewed key stays: a mismatched pair
    trackd.proc.kill("SIGHUP");
    await waitFor("the refusal", () =>
      trackd.logs().includes('"msg":"certificate not reloaded: still serving the previous one"'),
    );
    expect(trackd.logs()).toContain(`is not the key of ${live.cert}`);
    expect(await servedName(trackd.port)).toBe("renewed.trackd.test");
    expect((await post("after-bad-renewal", renewed)).status).toBe(204);
  });

  test("refuses an expired certificate, or one not valid yet, naming it and the day", () => {
    const twoDaysOn = Date.now() + 2 * 86_400_000; // the certificate is valid for one day
    expect(() => readTlsFiles({ certFile: first.cert, keyFile: first.key }, twoDaysOn)).toThrow(
      new RegExp(`^${first.cert} expired on \\d{4}-\\d\\d-\\d\\dT`),
    );
    const twoDaysBefore = Date.now() - 2 * 86_400_000;
    expect(() => readTlsFiles({ certFile: first.cert, keyFile: first.key }, twoDaysBefore)).toThrow(
      new RegExp(`^${first.cert} is not valid until \\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(readTlsFiles({ certFile: first.cert, keyFile: first.key })?.subject).toBe(
      "CN=first.trackd.test",
    );
  });

  test("refuses to start with a key that is not the certificate's, or with half a pair", async () => {
    const { dir, binary } = await binaryInEmptyDir();
    const data = join(dir, "data");
    const mismatched = Bun.spawnSync(
      [
        binary,
        "--data-dir",
        data,
        "--port",
        "0",
        "--tls.cert-file",
        first.cert,
        "--tls.key-file",
        renewed.key,
      ],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    );
    expect(mismatched.exitCode).toBe(1);
    expect(mismatched.stderr.toString()).toContain(
      `trackd: ${renewed.key} is not the key of ${first.cert}`,
    );
    const half = Bun.spawnSync([binary, "--data-dir", data, "--tls.cert-file", first.cert]);
    expect(half.exitCode).toBe(2);
    expect(half.stderr.toString()).toContain("set both tls.certFile and tls.keyFile, or neither");
  });

  test("a keep-alive client posting across 3 renewals loses nothing", async () => {
    const python = requireCommand("python3", "python3");
    const bundle = join(tempDir("trackd-tls-ca-"), "both.pem");
    await Bun.write(bundle, readFileSync(first.cert, "utf8") + readFileSync(renewed.cert, "utf8"));
    const account = "7d1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6c";
    // One http.client connection, reused for every request, as a vendor's back end keeps one:
    // it reconnects only when the server closes (after an answer with Connection: close).
    const client = Bun.spawn(
      [
        python,
        "-c",
        `
import http.client, json, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
conn = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx)
ok = failed = connections = 0
errors = []
end = time.time() + float(sys.argv[4])
i = 0
while time.time() < end:
    body = json.dumps({"action": "view", "object": "vehicle", "vendor": "V", "product": "P", "instance_id": f"keepalive-{i}"})
    try:
        if conn.sock is None: connections += 1
        conn.request("POST", f"/collect/{sys.argv[3]}/1/event", body, {"Content-Type": "application/json"})
        r = conn.getresponse(); r.read()
        if r.status == 204: ok += 1
        else: failed += 1; errors.append(r.status)
    except Exception as e:
        failed += 1; errors.append(repr(e)); conn.close()
    i += 1
    time.sleep(0.05)
print(json.dumps({"ok": ok, "failed": failed, "connections": connections, "errors": errors[:5]}))
`,
        String(trackd.port),
        bundle,
        account,
        "21",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const pairs = [first, renewed, first];
    for (const pair of pairs) {
      await Bun.sleep(5000);
      copyFileSync(pair.cert, live.cert);
      copyFileSync(pair.key, live.key);
      const reloads = trackd.logs().split('"msg":"certificate reloaded"').length;
      trackd.proc.kill("SIGHUP");
      await waitFor(
        "the reload",
        () => trackd.logs().split('"msg":"certificate reloaded"').length > reloads,
      );
    }
    await client.exited;
    const result = JSON.parse(await new Response(client.stdout).text()) as {
      ok: number;
      failed: number;
      connections: number;
      errors: unknown[];
    };
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    // It moved to a new connection at each renewal (and at none without one).
    expect(result.connections).toBeGreaterThanOrEqual(4);
    const read = await fetch(`${base}/admin/api/events?accountId=${account}&limit=500`, {
      headers: adminAuth,
      tls: { ca: readFileSync(bundle, "utf8") },
    });
    const { events } = (await read.json()) as { events: { instanceId: string }[] };
    expect(new Set(events.map((e) => e.instanceId)).size).toBe(result.ok);
  }, 60000);
});
