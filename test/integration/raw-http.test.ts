/**
 * What embedded and IoT devices send, byte for byte over a TCP socket, to the compiled binary:
 * HTTP/1.0, HTTP/1.1 with Connection: close, chunked uploads, no Content-Type, no trailing
 * newline, and the GET form.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { adminAuth, killAll, startFreshBinary, type Running } from "../helpers/binary.ts";
import { waitFor } from "../helpers/ports.ts";

let server: Running;
beforeAll(async () => {
  server = await startFreshBinary();
}, 120000);
afterAll(killAll);

/** Writes raw bytes, reads until the server closes, returns the response text. */
function raw(request: string | Uint8Array, closeAfterMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => socket.end(), closeAfterMs);
    socket.on("data", (d) => (out += d.toString("latin1")));
    socket.on("end", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on("error", reject);
    socket.write(request);
  });
}

const event = JSON.stringify({
  action: "marker",
  object: "sensor",
  vendor: "IoT Co",
  product: "Thermo",
  instance_id: "device-42",
}); // no trailing newline

async function stored(response: string): Promise<{ instanceId: string }> {
  const id = /x-event-id: (\S+)/i.exec(response)![1]!;
  const res = await fetch(`${server.url}/admin/api/events/${id}`, { headers: adminAuth });
  return ((await res.json()) as { event: { instanceId: string } }).event;
}

describe("raw HTTP from devices", () => {
  test("HTTP/1.0 with no Content-Type", async () => {
    const res = await raw(
      `POST /collect/1/1/event HTTP/1.0\r\nHost: x\r\nContent-Length: ${event.length}\r\n\r\n${event}`,
    );
    expect(res).toMatch(/^HTTP\/1\.[01] 204/);
    expect((await stored(res)).instanceId).toBe("device-42");
  });

  test("HTTP/1.1 with Connection: close: answered, then the server closes the connection", async () => {
    const started = Date.now();
    const res = await raw(
      `POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${event.length}\r\n\r\n${event}`,
    );
    expect(res).toMatch(/^HTTP\/1\.1 204/);
    expect(Date.now() - started).toBeLessThan(2500); // closed by the server, not by our 3 s fallback
  });

  test("a chunked upload", async () => {
    const half = Math.floor(event.length / 2);
    const chunks = [event.slice(0, half), event.slice(half)]
      .map((c) => `${c.length.toString(16)}\r\n${c}\r\n`)
      .join("");
    const res = await raw(
      `POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    expect(res).toMatch(/^HTTP\/1\.1 204/);
    expect((await stored(res)).instanceId).toBe("device-42");
  });

  test("the GET form for devices that can only GET", async () => {
    const res = await raw(
      `GET /collect/1/1/event?action=marker&object=sensor&vendor=IoT%20Co&product=Thermo&instance_id=get-device HTTP/1.0\r\nHost: x\r\n\r\n`,
    );
    expect(res).toMatch(/^HTTP\/1\.[01] 204/);
    expect((await stored(res)).instanceId).toBe("get-device");
  });

  test("a client that hangs up mid-body is recorded as body_unreadable, not as a server error", async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write(
          `POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"action":`,
        );
        setTimeout(() => socket.destroy(), 200);
      });
      socket.on("close", () => resolve());
    });
    const rejects = async () =>
      (
        (await (
          await fetch(`${server.url}/admin/api/rejects?code=body_unreadable`, {
            headers: adminAuth,
          })
        ).json()) as { rejects: unknown[] }
      ).rejects;
    await waitFor("the reject record", async () => (await rejects()).length === 1);
    expect(server.logs()).not.toContain("unhandled error");
  });

  test("oversized headers get 431, and the server keeps answering", async () => {
    const res = await raw(
      `POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(20000)}\r\nContent-Length: ${event.length}\r\nConnection: close\r\n\r\n${event}`,
    );
    expect(res).toMatch(/^HTTP\/1\.1 431/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("a malformed request gets a 4xx, and the server keeps answering", async () => {
    const res = await raw(
      `POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{oops`,
    );
    expect(res).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("a batch 50,001 arrays deep is a 400 at once, stores nothing of the batch, and valid events keep flowing", async () => {
    const marker = `deep-${Date.now()}`;
    const valid = JSON.stringify({
      action: "view",
      object: "page",
      vendor: "V",
      product: "P",
      instance_id: marker,
    });
    const deep = `[${valid},${"[".repeat(50001)}${"]".repeat(50001)}]`;
    const attack = () =>
      fetch(`${server.url}/collect/1/1/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: deep,
      });
    const answers = await Promise.all([attack(), attack(), attack(), attack()]);
    for (const res of answers) {
      expect(res.status).toBe(400);
      expect(
        ((await res.json()) as { error: { details: { path: string; code: string }[] } }).error
          .details[0],
      ).toEqual(expect.objectContaining({ path: "/1", code: "too_deep" }));
    }
    const stored = await fetch(`${server.url}/admin/api/events?instanceId=${marker}&accountId=1`, {
      headers: adminAuth,
    });
    expect(((await stored.json()) as { events: unknown[] }).events).toEqual([]);
    // While four clients keep sending it, valid events are stored and /healthz answers (how fast: npm run bench).
    let attacking = true;
    const attackers = Array.from({ length: 4 }, async () => {
      while (attacking) await (await attack()).arrayBuffer();
    });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/collect/1/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: valid,
      });
      expect(res.status).toBe(204);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    attacking = false;
    await Promise.all(attackers);
  }, 60000);

  test("odd JSON gets the same answers from the binary: unpaired surrogates, integers past 2^53, floats, a repeated eventId", async () => {
    const send = async (text: string) => {
      const res = await fetch(`${server.url}/collect/1/1/event`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
      });
      return res.status === 204
        ? { status: 204 }
        : {
            status: res.status,
            details: (
              (await res.json()) as { error: { details: { path: string; code: string }[] } }
            ).error.details.map((d) => `${d.path} ${d.code}`),
          };
    };
    const base = '"action":"view","object":"o","vendor":"v","product":"p","instance_id":"odd"';
    expect(await send(`{${base},"label":"\\ud800"}`)).toEqual({
      status: 400,
      details: ["/label lone_surrogate"],
    });
    expect(await send(`{${base},"score":9007199254740993}`)).toEqual({
      status: 400,
      details: ["/score unsafe_integer"],
    });
    expect(await send(`{${base},"score":1e22,"big":1.5e300}`)).toEqual({ status: 204 });
    const id = crypto.randomUUID();
    expect(await send(`{${base},"eventId":"${id}","eventId":"${crypto.randomUUID()}"}`)).toEqual({
      status: 400,
      details: ["/eventId conflict"],
    });
  });
});
