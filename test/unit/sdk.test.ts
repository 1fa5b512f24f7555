/**
 * The Web SDK's own logic, run in Bun against a minimal window: identities hashed in the page
 * (checked against node:crypto over the naughty strings), the visit ID as the default instance
 * ID, the sdk marker on every send. The browser tests run it in Chromium for real.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { trackdSdk } from "../../ui/sdk/sdk.ts";
import { NAUGHTY } from "../helpers/ids.ts";

type Sent = { url: string; body: Record<string, unknown> };

function fakeWindow(init: Record<string, unknown> = { pageViews: false }) {
  const storage = new Map<string, string>();
  const sent: Sent[] = [];
  const listeners: Record<string, () => void> = {};
  const w = {
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
    location: {
      href: "https://dealer.example/vdp/123?utm_source=google&utm_campaign=spring",
      host: "dealer.example",
    },
    // A single-page app's router moves the URL with these.
    history: {
      pushState(_state: unknown, _title: string, url: string) {
        w.location.href = new URL(url, w.location.href).href;
      },
      replaceState(_state: unknown, _title: string, url: string) {
        w.location.href = new URL(url, w.location.href).href;
      },
    },
    document: {
      title: "2021 Honda Accord | Dealer",
      referrer: "https://www.google.com/",
      visibilityState: "visible",
      addEventListener: () => {},
    },
    navigator: { onLine: true },
    crypto,
    fetch: async (url: string, init: { body: string }) => {
      sent.push({ url, body: JSON.parse(init.body) });
      return new Response(null, { status: 204 });
    },
    addEventListener: (name: string, fn: () => void) => (listeners[name] = fn),
  };
  trackdSdk(w as unknown as Window);
  const trackd = (w as unknown as { trackd: (c: string, a?: unknown) => void }).trackd;
  trackd("init", {
    endpoint: "https://trackd.example",
    aid: "1",
    tid: "1",
    flushIntervalMs: 0,
    ...init,
  });
  const queued = () => JSON.parse(storage.get("trackd.queue") ?? "[]") as Record<string, unknown>[];
  return { trackd, queued, sent, w, storage };
}

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("the Web SDK", () => {
  test("consent: with analytics denied no device ID, visit or identity stays in the browser; events carry the choice", async () => {
    const { trackd, queued, storage } = fakeWindow({ flushIntervalMs: 60_000 });
    trackd("identify", { email: "pat@example.com" });
    trackd("track", { action: "view", object: "vehicle", vendor: "W", product: "P" });
    expect(storage.has("trackd.device")).toBe(true);
    trackd("consent", { analytics: "denied", ads: "denied", other: "granted" });
    for (const key of ["trackd.device", "trackd.visit", "trackd.identity"])
      expect(storage.has(key)).toBe(false);
    trackd("identify", { userId: "u-1" });
    trackd("track", { action: "view", object: "vehicle", vendor: "W", product: "P" });
    trackd("track", { action: "view", object: "vehicle", vendor: "W", product: "P" });
    await tick();
    for (const key of ["trackd.device", "trackd.visit", "trackd.identity"])
      expect(storage.has(key)).toBe(false);
    const [before, after, again] = queued();
    expect(before!.consent).toBeUndefined();
    expect(after!.consent).toEqual({ analytics: "denied", ads: "denied" });
    // The page keeps one device ID while it is open, and it is not the one it had stored.
    expect(after!.deviceId).toBe(again!.deviceId);
    expect(after!.deviceId).not.toBe(before!.deviceId);
    expect(JSON.parse(storage.get("trackd.consent")!)).toEqual({
      analytics: "denied",
      ads: "denied",
    });
    trackd("consent", { analytics: "granted" });
    trackd("track", { action: "view", object: "vehicle", vendor: "W", product: "P" });
    expect(storage.has("trackd.device")).toBe(true);
    expect(queued().at(-1)!.consent).toEqual({ analytics: "granted", ads: "denied" });
  });

  test("tracks a page view on init, with what the script set right after init, and on a single-page app's navigation", async () => {
    const { trackd, queued, w } = fakeWindow({ flushIntervalMs: 60_000 }); // they stay queued
    trackd("setInstanceId", "chat-77");
    trackd("identify", { userId: "u-7" });
    await tick();
    expect(queued()).toHaveLength(1);
    expect(queued()[0]).toMatchObject({
      action: "view",
      object: "page",
      vendor: "Website",
      product: "Web SDK",
      label: "2021 Honda Accord | Dealer",
      instanceId: "chat-77",
      userId: "u-7",
      pageUrl: "https://dealer.example/vdp/123?utm_source=google&utm_campaign=spring",
    });
    w.history.pushState(null, "", "/finance");
    await tick();
    w.history.replaceState(null, "", "/finance#calculator"); // the fragment alone: no page view
    await tick();
    w.history.replaceState(null, "", "/finance?term=72");
    await tick();
    expect(queued().map((e) => e.pageUrl)).toEqual([
      "https://dealer.example/vdp/123?utm_source=google&utm_campaign=spring",
      "https://dealer.example/finance",
      "https://dealer.example/finance?term=72",
    ]);
  });

  test("pageViews: false sends none; trackd('page') sends one when the site says", async () => {
    const { trackd, queued, w } = fakeWindow({
      pageViews: false,
      vendor: "Dealer Inspire",
      product: "Site",
    });
    await tick();
    w.history.pushState(null, "", "/finance");
    await tick();
    expect(queued()).toEqual([]);
    trackd("page", { label: "Finance" });
    expect(queued()).toHaveLength(1);
    expect(queued()[0]).toMatchObject({
      object: "page",
      vendor: "Dealer Inspire",
      product: "Site",
      label: "Finance",
    });
  });

  test("hashes email and phone in the page: trimmed lower-case email, phone as digits with the country code", () => {
    const { trackd, queued } = fakeWindow();
    trackd("identify", {
      userId: "u-42",
      email: "  Shopper@Example.COM ",
      phone: "(555) 010-0199",
    });
    trackd("track", { action: "view", object: "vehicle", vendor: "Website", product: "VDP" });
    expect(queued()[0]).toMatchObject({
      userId: "u-42",
      emailSha256: hex("shopper@example.com"),
      phoneSha256: hex("15550100199"),
    });
    expect(JSON.stringify(queued())).not.toContain("Shopper@");
    expect(JSON.stringify(queued())).not.toMatch(/555.?010.?0199/); // the raw phone, in any spelling
    for (const [phone, digits] of [
      ["+44 20 7946 0958", "442079460958"],
      ["0044 20 7946 0958", "442079460958"],
      ["1-555-010-0199", "15550100199"],
    ]) {
      trackd("identify", { phone });
      trackd("track", { action: "view", object: "page", vendor: "Website", product: "Page" });
      expect(queued().at(-1)!.phoneSha256).toBe(hex(digits!));
    }
    trackd("identify", null);
    trackd("track", { action: "view", object: "page", vendor: "Website", product: "Page" });
    expect(queued().at(-1)!.emailSha256).toBeUndefined();
  });

  test("computes SHA-256 as node:crypto does, for any text", () => {
    const { trackd, queued } = fakeWindow();
    const texts = [
      ...NAUGHTY,
      "",
      "a".repeat(55),
      "a".repeat(56),
      "a".repeat(64),
      "é".repeat(1000),
      "😀",
    ];
    for (const text of texts) {
      trackd("identify", { email: text });
      trackd("track", { action: "view", object: "page", vendor: "Website", product: "Page" });
      const normalized = text.trim().toLowerCase();
      if (normalized !== "") expect(queued().at(-1)!.emailSha256).toBe(hex(normalized));
    }
  });

  test("gives an event without an instance ID the visit ID, and marks every send as the SDK's", async () => {
    const { trackd, sent } = fakeWindow();
    trackd("track", { action: "view", object: "vehicle", vendor: "Website", product: "VDP" });
    trackd("setInstanceId", "chat-7");
    trackd("track", { action: "open", object: "widget", vendor: "Chat Co", product: "Chat" });
    trackd("flush");
    await new Promise((r) => setTimeout(r, 20));
    const events = sent.flatMap((s) => (Array.isArray(s.body) ? s.body : [s.body])) as Record<
      string,
      unknown
    >[];
    expect(events[0]!.instanceId).toBe(events[0]!.visitId);
    expect(events[1]!.instanceId).toBe("chat-7");
    for (const s of sent) expect(new URL(s.url).searchParams.get("sdk")).toBe("web-0.2.0");
  });
});
