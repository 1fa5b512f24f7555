/**
 * The client examples of docs/clients.md, run for real against the compiled binary (Python's
 * standard library, Node, PHP, curl with openssl), and checked to be there word for word. Their
 * tracker asks for signed server events: each example signs with the secret made for it in
 * the registry and is stored verified; without the secret each is refused. With curl, Bun's
 * and Deno's fetch (to a tracker that does not ask), every one is stored as a server event,
 * with the hashed identifiers it sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { requireCommand } from "../helpers/system-package.ts";

const dir = join(import.meta.dir, "../fixtures/clients");
const manual = readFileSync(join(import.meta.dir, "../../docs/clients.md"), "utf8");
let server: Running;
/** The secret of the examples' tracker (1001/1), which asks for signed server events. */
let secret = "";

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${server.url}/admin/api${path}`, {
    method,
    headers: { ...adminAuth, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

beforeAll(async () => {
  await buildBinary();
  const { dir: home, binary } = await binaryInEmptyDir();
  server = await startBinary(binary, home, ["--data-dir", join(home, "data")]);
  await admin("PUT", "/registry/accounts/1001", { name: "Main Street Motors" });
  await admin("PUT", "/registry/trackers/1001/1", { name: "Website", serverAuth: "hmac" });
  secret = (
    (await (await admin("POST", "/registry/trackers/1001/1/secrets")).json()) as {
      secret: string;
    }
  ).secret;
}, 300000);
afterAll(killAll);

async function run(cmd: string[], signed = true): Promise<string> {
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, TRACKD_URL: server.url, TRACKD_SECRET: signed ? secret : "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The stored event whose ID a client printed. */
async function storedFrom(out: string): Promise<{
  context: { source: string; auth?: { method: string; verified: boolean } };
  properties: Record<string, unknown>;
}> {
  const eventId = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(out)?.[0];
  if (!eventId) throw new Error(`no event ID in: ${out}`);
  return (
    (await (
      await fetch(`${server.url}/admin/api/events/${eventId}`, { headers: adminAuth })
    ).json()) as { event: never }
  ).event;
}

const fetchScript = `const r = await fetch((process.env.TRACKD_URL ?? "") + "/collect/1001/2/event", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "submit", object: "lead", vendor: "V", product: "P", instance_id: "lead-1" }) }); console.log(r.status, r.headers.get("x-event-id"));`;

describe("client examples", () => {
  for (const [file, command, pkg] of [
    ["send-event.py", "python3", "python3"],
    ["send-event.mjs", "node", "nodejs"],
    ["send-event.php", "php", "php-cli"],
  ] as const) {
    test(`${file} stores a server lead with its customer sealed, its vehicle and trackd's hashes`, async () => {
      const out = await run([requireCommand(command, pkg), join(dir, file)]);
      expect(out).toMatch(/204/);
      const event = await storedFrom(out);
      expect(event.context.source).toBe("server");
      expect(event.context.auth).toEqual({ method: "hmac", verified: true });
      expect(event.properties.emailSha256).toBe(sha256("shopper@example.com"));
      expect(event.properties.phoneSha256).toBe(sha256("15550100199"));
      expect(event.properties.customer).toMatchObject({
        sealed: true,
        fields: ["firstName", "lastName", "email", "phone"],
      });
      expect(event.properties.vehicle).toMatchObject({ year: 2021, vin: "2T3P1RFV8MC123456" });
    }, 300000);

    test(`${file} without the tracker's secret is refused`, async () => {
      const unsigned = run([requireCommand(command, pkg), join(dir, file)], false);
      // Python and Node stop on the 401; PHP prints the status line.
      const out = await unsigned.catch((err: Error) => err.message);
      expect(out).toMatch(/401/);
    }, 300000);
  }

  test("curl, Bun's fetch and Deno's fetch store server events", async () => {
    const deno = join(import.meta.dir, "../../node_modules/.bin/deno");
    for (const cmd of [
      [
        requireCommand("curl", "curl"),
        "-si",
        "-H",
        "content-type: application/json",
        "-d",
        '{"action":"submit","object":"lead","vendor":"V","product":"P","instance_id":"lead-1"}',
        `${server.url}/collect/1001/2/event`,
      ],
      [process.execPath, "-e", fetchScript],
      [
        deno,
        "eval",
        fetchScript.replaceAll("process.env.TRACKD_URL", 'Deno.env.get("TRACKD_URL")'),
      ],
    ]) {
      const event = await storedFrom(await run(cmd));
      expect(event.context.source).toBe("server");
    }
  }, 120000);

  test("the enrichment example adds to the shopper and is not a lead", async () => {
    const out = await run([requireCommand("bash", "bash"), join(dir, "enrich-shopper.sh")]);
    expect(out).toMatch(/^HTTP\/1\.1 204/);
    const unsigned = await run(
      [requireCommand("bash", "bash"), join(dir, "enrich-shopper.sh")],
      false,
    );
    expect(unsigned).toMatch(/^HTTP\/1\.1 401/);
    const event = (await storedFrom(out)) as unknown as {
      eventId: string;
      action: string;
      properties: Record<string, unknown>;
    };
    expect(event.action).toBe("change");
    expect(event.properties.emailSha256).toBe(sha256("shopper@example.com"));
    const leads = (await (
      await fetch(`${server.url}/admin/api/leads?accountId=1001`, { headers: adminAuth })
    ).json()) as { leads: { lead: { eventId: string } }[] };
    expect(leads.leads.length).toBeGreaterThan(0); // the examples above sent leads
    expect(leads.leads.some((l) => l.lead.eventId === event.eventId)).toBe(false);
  }, 120000);

  test("every example is in docs/clients.md as it is run here", () => {
    for (const file of [
      "send-event.py",
      "send-event.mjs",
      "send-event.php",
      "esp32.ino",
      "enrich-shopper.sh",
    ])
      expect(manual).toContain(readFileSync(join(dir, file), "utf8").trim());
  });
});
