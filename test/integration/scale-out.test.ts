/**
 * Several nodes behind HAProxy with docs/haproxy-by-account.cfg, as it is: every event of an
 * account lands on one node (UUID account IDs in either case included), so its journeys are
 * whole there; the admin API reaches that node by accountId; a node taken away leaves the
 * balancer sending its accounts to the other.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Journey } from "../../server/journey/journey.ts";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  startBinary,
  type Running,
} from "../helpers/binary.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { BROWSER_UA } from "../helpers/test-app.ts";

const CONFIG = join(import.meta.dir, "../../docs/haproxy-by-account.cfg");
const nodes: Running[] = [];
let haproxy: Subprocess;
let front = "";

const ACCOUNTS = [
  ...Array.from({ length: 10 }, (_, i) => String(1000 + i)),
  ...Array.from({ length: 10 }, () => crypto.randomUUID()),
];

async function post(aid: string, body: Record<string, unknown>, query = ""): Promise<Response> {
  return fetch(`${front}/collect/${aid}/1/event${query}`, {
    method: "POST",
    // The Web SDK's sends come from a shopper's browser.
    headers: { "content-type": "application/json", ...(query && { "user-agent": BROWSER_UA }) },
    body: JSON.stringify(body),
  });
}

async function countOn(node: Running, accountId: string): Promise<number> {
  const res = await fetch(`${node.url}/admin/api/events?accountId=${accountId}&limit=500`, {
    headers: adminAuth,
  });
  return ((await res.json()) as { events: unknown[] }).events.length;
}

beforeAll(async () => {
  const haproxyBin = requireCommand("haproxy", "haproxy");
  await buildBinary();
  for (let i = 0; i < 2; i++) {
    const { dir, binary } = await binaryInEmptyDir();
    nodes.push(
      await startBinary(binary, dir, [
        "--data-dir",
        join(dir, "data"),
        "--trusted-proxies",
        "127.0.0.1",
      ]),
    );
  }
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  haproxy = Bun.spawn([haproxyBin, "-db", "-f", CONFIG], {
    env: {
      ...process.env,
      TRACKD_LISTEN: `127.0.0.1:${port}`,
      TRACKD_NODE_1: `127.0.0.1:${nodes[0]!.port}`,
      TRACKD_NODE_2: `127.0.0.1:${nodes[1]!.port}`,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  await waitFor(
    "haproxy",
    async () => (await fetch(`${front}/healthz`).catch(() => null))?.status === 200,
  );
}, 300000);

afterAll(() => {
  haproxy?.kill();
  killAll();
});

describe("several nodes behind HAProxy, routed by account", () => {
  test("puts every event of an account on one node, whatever the case of its UUID", async () => {
    for (const [i, aid] of ACCOUNTS.entries())
      for (let k = 0; k < 4; k++) {
        const sent = k % 2 === 0 ? aid.toUpperCase() : aid; // the same account in both cases
        const browser = {
          action: "view",
          object: "vehicle",
          vendor: "Website",
          product: "VDP",
          instanceId: `visit-${i}`,
          deviceId: `device-${i}`,
          visitId: `visit-${i}`,
          pageUrl: `https://dealer.example/?utm_campaign=c-${i}`,
        };
        expect((await post(sent, browser, "?sdk=web-0.2.0")).status).toBe(204);
      }
    for (const [i, aid] of ACCOUNTS.entries())
      expect(
        (
          await post(aid, {
            action: "associate",
            object: "lead",
            vendor: "ChatVendor",
            product: "Chat",
            instance_id: `visit-${i}`,
          })
        ).status,
      ).toBe(204);

    const owners = [0, 0];
    for (const aid of ACCOUNTS) {
      const counts = await Promise.all(nodes.map((n) => countOn(n, aid.toLowerCase())));
      expect([aid, [...counts].sort((a, b) => a - b)]).toEqual([aid, [0, 5]]);
      owners[counts[0]! > 0 ? 0 : 1]!++;
    }
    expect(owners.every((n) => n > 0)).toBe(true); // both nodes own accounts
  }, 60000);

  test("answers a journey through the balancer from the account's node", async () => {
    for (const [i, aid] of ACCOUNTS.entries()) {
      const res = await fetch(
        `${front}/admin/api/journey?accountId=${aid.toUpperCase()}&instanceId=visit-${i}`,
        { headers: adminAuth },
      );
      const journey = (await res.json()) as Journey;
      expect([
        aid,
        journey.events.length,
        journey.leads.length,
        journey.visits[0]?.utm.campaign,
      ]).toEqual([aid, 5, 1, `c-${i}`]);
    }
  }, 60000);

  test("sends a removed node's accounts to the node that is left", async () => {
    const gone = nodes[1]!;
    const owned: string[] = [];
    for (const aid of ACCOUNTS) if ((await countOn(gone, aid.toLowerCase())) > 0) owned.push(aid);
    await gone.stop("SIGTERM");
    const body = {
      action: "view",
      object: "page",
      vendor: "Website",
      product: "Home",
      instance_id: "after-removal",
    };
    await waitFor(
      "haproxy to route around the stopped node",
      async () => (await post(owned[0]!, body)).status === 204,
      20000,
      500,
    );
    for (const aid of owned) expect((await post(aid, body)).status).toBe(204);
    expect(await countOn(nodes[0]!, owned[0]!.toLowerCase())).toBeGreaterThan(0);
  }, 60000);
});
