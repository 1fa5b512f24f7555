/**
 * A realistic data set for matching tests: shoppers with one or two devices (linked by a
 * user ID they log in with on both), several visits each from a campaign, vehicles viewed,
 * some identified by email or phone, chats that become leads, credit applications and calls
 * that arrive from vendors' servers without the shopper's instance ID, calls nobody can
 * match, and planted noise: a dealership test email typed on many shoppers' devices, one
 * instance ID ("phone-call") on every call. Deterministic for a seed. What it plants is the
 * truth the tests check the journeys against.
 */
import { createHash } from "node:crypto";

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
export const NOISY_EMAIL = "test@dealer.example";
export const SHARED_CALL_INSTANCE = "phone-call";

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const uuid = () =>
    "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) =>
      ((c === "x" ? next() * 16 : (next() * 4) | 8) | 0).toString(16),
    );
  return {
    next,
    uuid,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

export interface PlannedVisit {
  visitId: string;
  deviceId: string;
  campaign: string;
  source: string;
  medium: string;
  referrer: string;
  landingPage: string;
  /** Browser event bodies, as the Web SDK sends them. */
  events: Record<string, unknown>[];
}

export interface PlannedLead {
  kind: "chat" | "credit" | "call" | "unmatched-call" | "test-email";
  body: Record<string, unknown>;
}

export interface Shopper {
  index: number;
  devices: string[];
  visits: PlannedVisit[];
  leads: PlannedLead[];
  /** Whether this shopper's devices carry the noisy test email. */
  noisy: boolean;
}

export interface DataSet {
  shoppers: Shopper[];
  /** Leads that belong to no shopper. */
  orphanLeads: PlannedLead[];
}

const SOURCES = [
  ["google", "cpc", "https://www.google.com/"],
  ["facebook", "paid_social", "https://www.facebook.com/"],
  ["autotrader", "referral", "https://www.autotrader.com/"],
  ["newsletter", "email", ""],
] as const;
const VEHICLES = [
  "2021 Honda Accord",
  "2022 Toyota RAV4",
  "2020 Ford F-150",
  "2023 Kia Telluride",
  "2019 BMW X3",
];

/** Plans `n` shoppers; `startMs` is when the first visit begins (visits are an hour apart per shopper). */
export function planShoppers(n: number, seed: number, startMs: number): DataSet {
  const r = random(seed);
  const shoppers: Shopper[] = [];
  for (let index = 0; index < n; index++) {
    const devices = Array.from({ length: r.next() < 0.3 ? 2 : 1 }, () => r.uuid());
    const userId = devices.length > 1 ? `user-${r.uuid()}` : null;
    const noisy = index % 9 === 4; // about 11% of shoppers type the dealership's test email
    const email = !noisy && r.next() < 0.5 ? `  Shopper${index}@Example.com ` : null;
    const phone =
      r.next() < 0.4
        ? `(555) ${String(100 + (index % 900)).padStart(3, "0")}-${String(1000 + index).slice(-4)}`
        : null;
    const identity: Record<string, string> = {};
    if (userId) identity.userId = userId;
    if (email) identity.emailSha256 = sha256(email.trim().toLowerCase());
    if (noisy) identity.emailSha256 = sha256(NOISY_EMAIL);
    if (phone) identity.phoneSha256 = sha256(`1${phone.replace(/\D/g, "")}`);

    const visits: PlannedVisit[] = [];
    const visitCount = 2 + r.int(3);
    let time = startMs + index * 1000 + r.int(500);
    /** The next event's time: a minute after the one before. */
    const tick = () => {
      time += 60_000;
      return time;
    };
    for (let v = 0; v < visitCount; v++) {
      const deviceId = devices[v % devices.length]!;
      const [source, medium, referrer] = r.pick(SOURCES);
      const campaign = `camp-${index}-${v}`;
      const landingPage = `https://dealer.example/inventory?utm_source=${source}&utm_medium=${medium}&utm_campaign=${campaign}`;
      const visitId = r.uuid();
      const events: Record<string, unknown>[] = [];
      const page = (fields: Record<string, unknown>, pageUrl: string) => {
        events.push({
          ...identity,
          ...fields,
          instanceId: visitId,
          eventId: r.uuid(),
          timestamp: tick(),
          deviceId,
          visitId,
          pageUrl,
          ...(referrer ? { referrer } : {}),
        });
      };
      page(
        { action: "view", object: "page", vendor: "Website", product: "SRP", label: "Inventory" },
        landingPage,
      );
      for (let k = 0, views = 1 + r.int(4); k < views; k++)
        page(
          {
            action: "view",
            object: "vehicle",
            vendor: "Website",
            product: "VDP",
            label: r.pick(VEHICLES),
          },
          `https://dealer.example/vdp/${k}`,
        );
      visits.push({ visitId, deviceId, campaign, source, medium, referrer, landingPage, events });
      time += 3_600_000;
    }

    const leads: PlannedLead[] = [];
    if (r.next() < 0.4) {
      // A chat in the last visit: the chat ID becomes the instance ID, then the vendor's lead.
      const chatId = `chat-${r.uuid()}`;
      const last = visits.at(-1)!;
      last.events.push({
        ...identity,
        action: "start",
        object: "chat",
        vendor: "ChatVendor",
        product: "LiveChat",
        instanceId: chatId,
        eventId: r.uuid(),
        timestamp: tick(),
        deviceId: last.deviceId,
        visitId: last.visitId,
        pageUrl: "https://dealer.example/vdp/0",
      });
      leads.push({
        kind: "chat",
        body: {
          action: "associate",
          object: "lead",
          vendor: "ChatVendor",
          product: "LiveChat",
          instance_id: chatId,
          label: `Chat lead ${index}`,
        },
      });
    }
    if (email && r.next() < 0.5)
      leads.push({
        kind: "credit",
        body: {
          action: "submit",
          object: "form",
          vendor: "CreditCo",
          product: "Credit app",
          instance_id: `credit-${r.uuid()}`,
          emailSha256: sha256(email.trim().toLowerCase()),
        },
      });
    if (phone && r.next() < 0.6)
      leads.push({
        kind: "call",
        body: {
          action: "submit",
          object: "lead",
          vendor: "CallTrack",
          product: "Calls",
          instance_id: SHARED_CALL_INSTANCE,
          phoneSha256: sha256(`1${phone.replace(/\D/g, "")}`),
        },
      });
    shoppers.push({ index, devices, visits, leads, noisy });
  }
  const orphanLeads: PlannedLead[] = [];
  for (let i = 0; i < 10; i++)
    orphanLeads.push({
      kind: "unmatched-call",
      body: {
        action: "submit",
        object: "lead",
        vendor: "CallTrack",
        product: "Calls",
        instance_id: SHARED_CALL_INSTANCE,
        phoneSha256: sha256(`1999${String(1000000 + i)}`),
      },
    });
  orphanLeads.push({
    kind: "test-email",
    body: {
      action: "submit",
      object: "form",
      vendor: "CreditCo",
      product: "Credit app",
      instance_id: `credit-test-${r.uuid()}`,
      emailSha256: sha256(NOISY_EMAIL),
    },
  });
  return { shoppers, orphanLeads };
}
