/**
 * Leads to a CRM as ADF/XML, from the compiled binary: by e-mail to a real SMTP server
 * (STARTTLS, a password) whose message body is only the XML, and by HTTP POST with an HMAC.
 * Every document validates against the ADF 1.0 DTD with xmllint and parses back to the lead's
 * customer, vehicle and attribution; hostile customer text stays well-formed. The customer's
 * name, e-mail and phone are nowhere in cleartext: not in the data directory's files, the
 * logs, the reject log, /metrics or the file sink. Then exactly once across kill -9 while the
 * SMTP server refuses for a while, with dead letters for a recipient refused for good.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DOMParser, type Element } from "@xmldom/xmldom";
import type { Server } from "bun";
import {
  adminAuth,
  binaryInEmptyDir,
  buildBinary,
  killAll,
  type Running,
  startBinary,
} from "../helpers/binary.ts";
import { filesUnder } from "../helpers/files.ts";
import { waitFor } from "../helpers/ports.ts";
import { type Mailbox, smtpSettings, startMailbox } from "../helpers/smtp.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir } from "../helpers/test-app.ts";

const DTD = join(import.meta.dir, "../fixtures/adf/adf-1.0.dtd");
const ACCOUNT = "1001";
const CHAT = { vendor: "ChatVendor", product: "LiveChat Pro" };
const CREDIT = { vendor: "CreditApp", product: "Prequal" };

let mailbox: Mailbox;
let posted: { body: string; signature: string | null }[] = [];
let crm: Server<unknown>;
beforeAll(async () => {
  requireCommand("xmllint", "libxml2-utils");
  mailbox = await startMailbox();
  crm = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      posted.push({ body: await req.text(), signature: req.headers.get("x-trackd-signature") });
      return new Response("<ok/>", { status: 202 });
    },
  });
  await buildBinary();
}, 120000);
afterAll(async () => {
  killAll();
  await mailbox.stop();
  crm.stop(true);
});

/** Validates one ADF document against the DTD; the xmllint output when it is not valid. */
function xmllint(xml: string): string | null {
  const file = join(tempDir("trackd-adf-"), "lead.xml");
  writeFileSync(file, xml);
  const run = Bun.spawnSync(["xmllint", "--noout", "--dtdvalid", DTD, file]);
  return run.exitCode === 0 ? null : run.stderr.toString();
}

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (Array.isArray(v) ? v : [v]) as Node[];
const text = (v: unknown): string =>
  typeof v === "string" ? v : (((v as Node | undefined)?.["#"] as string | undefined) ?? "");
/** An element as an object: its text under "#", attributes under "@name", children by name (repeated: a list). */
function objectOf(el: Element): Node {
  const o: Node = { "#": el.textContent ?? "" };
  for (const a of Array.from(el.attributes)) o[`@${a.name}`] = a.value;
  for (const child of Array.from(el.childNodes)) {
    if (child.nodeType !== 1) continue;
    const c = child as Element;
    const had = o[c.tagName];
    o[c.tagName] = had === undefined ? objectOf(c) : [...list(had), objectOf(c)];
  }
  return o;
}
/** The prospect, as a W3C DOM parser (@xmldom/xmldom) reads the document. */
const parsed = (xml: string) =>
  objectOf(new DOMParser().parseFromString(xml, "text/xml").getElementsByTagName("prospect")[0]!);

const customer = {
  firstName: "Zoë",
  lastName: "O'Brien-Núñez",
  email: "zoe.obrien@example.net",
  phone: "(512) 555-0147",
  phoneType: "cellphone",
  comments: "Trade-in: 2015 Civic. ]]> <b>&amp;",
};

function config(dir: string, hookSecret: string) {
  return {
    dataDir: join(dir, "data"),
    registry: { accounts: [{ id: ACCOUNT, name: "Main Street Motors" }] },
    sinks: [
      { kind: "file", name: "files", dir: join(dir, "files"), delivery: { lingerMs: 5 } },
      {
        kind: "adf",
        name: "crm-mail",
        accountId: ACCOUNT,
        delaySeconds: 1,
        adminUrl: "https://trackd.mainstreet.example/admin",
        smtp: smtpSettings(mailbox.port, ["leads@crm.example"], {
          subject: "{dealer}: lead from {vendor}",
        }),
        delivery: { lingerMs: 5, retryInitialMs: 100, retryMaxMs: 1000 },
      },
      {
        kind: "adf",
        name: "crm-post",
        vendors: [{ vendor: "chatvendor" }],
        delaySeconds: 0,
        dealer: { phone: "+1 512 555 0100" },
        http: { url: `http://127.0.0.1:${crm.port}/adf`, secret: hookSecret },
        delivery: { lingerMs: 5, retryInitialMs: 100, retryMaxMs: 1000 },
      },
    ],
  };
}

async function post(
  t: Running,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${t.url}/collect/${ACCOUNT}/7/event`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(204);
  return res.headers.get("x-event-id")!;
}

describe("the adf sink", () => {
  let t: Running;
  let dir: string;
  let chatLead: string;
  let creditLead: string;
  const device = "3f1e6a52-7a0c-4d7e-9a55-0d3c6f1b2e84";
  const visit = "9a0b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
  const chatId = "c7a1f2e3-1111-4a2b-9c3d-5e6f7a8b9c0d";

  beforeAll(async () => {
    mailbox.messages.length = 0;
    posted = [];
    const bin = await binaryInEmptyDir();
    dir = bin.dir;
    writeFileSync(join(dir, "trackd.json"), JSON.stringify(config(dir, "crm-secret")));
    t = await startBinary(bin.binary, dir, ["--config", join(dir, "trackd.json")]);
    const browser = {
      origin: "https://mainstreet.example",
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
    };
    const landing =
      "https://mainstreet.example/used/rav4?utm_source=google&utm_medium=cpc&utm_campaign=spring-suv&gclid=Cj0KCQiA-test_gclid";
    const page = { vendor: "Website", product: "Web SDK", deviceId: device, visitId: visit };
    await post(
      t,
      { action: "view", object: "page", instance_id: visit, pageUrl: landing, ...page },
      browser,
    );
    await post(
      t,
      {
        action: "view",
        object: "vehicle",
        instance_id: visit,
        vin: "2T3P1RFV8MC123456",
        year: 2021,
        make: "Toyota",
        model: "RAV4",
        ...page,
      },
      browser,
    );
    await post(
      t,
      { action: "open", object: "chat", instance_id: chatId, ...page, ...CHAT },
      browser,
    );
    chatLead = await post(t, {
      action: "submit",
      object: "lead",
      instance_id: chatId,
      ...CHAT,
      customer,
    });
    creditLead = await post(t, {
      action: "submit",
      object: "lead",
      instance_id: "credit-7781",
      ...CREDIT,
      customer: { firstName: "Ann", lastName: "Lee", email: "ann.lee@example.org" },
      vehicle: {
        interest: "buy",
        status: "new",
        year: 2025,
        make: "Honda",
        model: "CR-V",
        trim: "EX",
      },
    });
    await waitFor(
      "two e-mails and one POST",
      () => mailbox.messages.length >= 2 && posted.length >= 1,
      30000,
    );
  }, 60000);

  test("e-mails each lead: the configured subject, a body that is only valid ADF", async () => {
    expect(mailbox.messages).toHaveLength(2);
    for (const m of mailbox.messages) {
      expect(m.subject).toMatch(/^Main Street Motors: lead from (ChatVendor|CreditApp)$/);
      expect(m.attachments).toHaveLength(0);
      expect(m.html).toBe(false);
      const xml = m.text!;
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>')).toBe(
        true,
      );
      expect(xml.trimEnd().endsWith("</adf>")).toBe(true);
      expect(xmllint(xml)).toBeNull();
      expect([...xml].every((c) => c.charCodeAt(0) < 128)).toBe(true);
    }
  });

  test("parses back to the customer, the vehicle (inferred where the lead had none) and the attribution", () => {
    const byId = (id: string) =>
      parsed(mailbox.messages.map((m) => m.text!).find((x) => x.includes(id))!);
    const chat = byId(chatLead);
    expect(chat["@status"]).toBe("new");
    const ids = list(chat.id);
    expect(ids.map((i) => [i["@source"], text(i)])).toEqual([
      ["trackd", chatLead],
      ["ChatVendor", chatId],
    ]);
    const contact = (chat.customer as Node).contact as Node;
    expect(list(contact.name).map((n) => [n["@part"], text(n)])).toEqual([
      ["first", "Zoë"],
      ["last", "O'Brien-Núñez"],
    ]);
    expect(text(contact.email)).toBe("zoe.obrien@example.net");
    expect(text(contact.phone)).toBe("+15125550147");
    expect((contact.phone as Node)["@type"]).toBe("cellphone");
    const comments = text((chat.customer as Node).comments);
    expect(comments).toContain("Trade-in: 2015 Civic. ]]> <b>&amp;");
    expect(comments).toContain("First touch:");
    expect(comments).toContain(
      "source: google; medium: cpc; campaign: spring-suv; gclid: Cj0KCQiA-test_gclid",
    );
    expect(comments).toContain("Vehicles viewed: 2T3P1RFV8MC123456.");
    expect(comments).toContain(
      `Journey: https://trackd.mainstreet.example/admin#/journey?accountId=1001&eventId=${chatLead}`,
    );
    const vehicle = chat.vehicle as Node;
    expect([
      text(vehicle.year),
      text(vehicle.make),
      text(vehicle.model),
      text(vehicle.vin),
    ]).toEqual(["2021", "Toyota", "RAV4", "2T3P1RFV8MC123456"]);
    expect(text(vehicle.comments)).toContain("Inferred by trackd");
    expect(text((chat.vendor as Node).vendorname)).toBe("Main Street Motors");
    expect(text((chat.provider as Node).name)).toBe("ChatVendor");
    expect(text((chat.provider as Node).service)).toBe("LiveChat Pro");

    const credit = byId(creditLead);
    const v = credit.vehicle as Node;
    expect([
      v["@interest"],
      v["@status"],
      text(v.year),
      text(v.make),
      text(v.model),
      text(v.trim),
    ]).toEqual(["buy", "new", "2025", "Honda", "CR-V", "EX"]);
    expect(v.comments).toBeUndefined();
    expect(text((credit.customer as Node).comments)).toContain(
      "No website visit found before the lead.",
    );
  });

  test("POSTs only the opted-in vendor's lead, signed", () => {
    expect(posted).toHaveLength(1);
    const [p] = posted;
    expect(p!.body).toContain(chatLead);
    expect(p!.signature).toBe(
      `sha256=${createHmac("sha256", "crm-secret").update(p!.body).digest("hex")}`,
    );
    expect(xmllint(p!.body)).toBeNull();
    const vendorContact = ((parsed(p!.body).vendor as Node).contact as Node).phone;
    expect(text(vendorContact)).toBe("+1 512 555 0100");
  });

  test("the lead's detail shows the customer and where the lead went", async () => {
    await waitFor("both deliveries recorded", async () => {
      const r = await fetch(`${t.url}/admin/api/leads/${chatLead}?accountId=${ACCOUNT}`, {
        headers: adminAuth,
      });
      const d = (await r.json()) as { deliveries: { state: string }[] };
      return d.deliveries?.filter((x) => x.state === "delivered").length === 2;
    });
    const res = await fetch(`${t.url}/admin/api/leads/${chatLead}?accountId=${ACCOUNT}`, {
      headers: adminAuth,
    });
    const detail = (await res.json()) as {
      customer: { firstName: string; email: string; phone: string };
      contact: string;
      deliveries: { sink: string; state: string; answer: string; attempts: number }[];
    };
    expect(detail.contact).toBe("kept");
    expect(detail.customer).toMatchObject({
      firstName: "Zoë",
      email: customer.email,
      phone: "+15125550147",
    });
    expect(detail.deliveries.map((d) => [d.sink, d.state, d.attempts]).sort()).toEqual([
      ["crm-mail", "delivered", 1],
      ["crm-post", "delivered", 1],
    ]);
    expect(detail.deliveries.find((d) => d.sink === "crm-post")!.answer).toBe("HTTP 202: <ok/>");
    // The event's receipt says what the CRMs answered, too.
    const receipt = (await (
      await fetch(`${t.url}/admin/api/events/${chatLead}`, { headers: adminAuth })
    ).json()) as { leadDeliveries: { sink: string; state: string }[] };
    expect(receipt.leadDeliveries.map((d) => d.state)).toEqual(["delivered", "delivered"]);
    const leads = await fetch(`${t.url}/admin/api/leads?accountId=${ACCOUNT}&crm=delivered`, {
      headers: adminAuth,
    });
    const ids = ((await leads.json()) as { leads: { lead: { eventId: string } }[] }).leads.map(
      (l) => l.lead.eventId,
    );
    expect(ids.sort()).toEqual([chatLead, creditLead].sort());
  });

  test("the name, e-mail and phone are nowhere in cleartext: data, logs, rejects, metrics, file sink", async () => {
    // A refused lead too: its body reaches the reject log.
    const bad = await fetch(`${t.url}/collect/${ACCOUNT}/7/event`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        action: "submit",
        object: "lead",
        ...CHAT,
        instance_id: "x",
        customer: { ...customer, phone: "12" },
      }),
    });
    expect(bad.status).toBe(400);
    const rejects = await (
      await fetch(`${t.url}/admin/api/rejects`, { headers: adminAuth })
    ).text();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    await t.stop();
    const files = filesUnder(dir, ["trackd", "trackd.json"]);
    const secrets = [
      "O'Brien",
      "Brien-N",
      "zoe.obrien@example.net",
      "5125550147",
      "555-0147",
      "ann.lee@example.org",
    ];
    for (const [where, what] of [
      ["the data directory and the sinks' files", files],
      ["the logs", t.logs()],
      ["the reject log", rejects],
      ["/metrics", metrics],
    ] as const)
      for (const s of secrets)
        expect({ where, leaked: what.includes(s) ? s : null }).toEqual({ where, leaked: null });
  });
});

describe("the adf sink across kill -9", () => {
  test("every lead reaches the CRM, none twice as new, while the SMTP server refuses for a while; a recipient refused for good dead-letters", async () => {
    mailbox.messages.length = 0;
    mailbox.mode = "tempfail";
    mailbox.refused.add("gone@crm.example");
    const bin = await binaryInEmptyDir();
    const retry = { lingerMs: 5, retryInitialMs: 50, retryMaxMs: 300 };
    writeFileSync(
      join(bin.dir, "trackd.json"),
      JSON.stringify({
        dataDir: join(bin.dir, "data"),
        sinks: [
          {
            kind: "adf",
            name: "crm",
            delaySeconds: 0,
            smtp: smtpSettings(mailbox.port, ["leads@crm.example"]),
            delivery: retry,
          },
          {
            kind: "adf",
            name: "crm-gone",
            delaySeconds: 0,
            smtp: smtpSettings(mailbox.port, ["gone@crm.example"]),
            delivery: retry,
          },
        ],
      }),
    );
    const run = () => startBinary(bin.binary, bin.dir, ["--config", join(bin.dir, "trackd.json")]);
    const leads: string[] = [];
    const postLeads = async (t: Running, n: number) => {
      for (let i = 0; i < n; i++)
        leads.push(
          await post(t, {
            action: "submit",
            object: "lead",
            ...CHAT,
            instance_id: crypto.randomUUID(),
            customer: {
              firstName: "Lead",
              lastName: String(leads.length),
              email: `lead${leads.length}@example.com`,
            },
          }),
        );
    };
    let t = await run();
    await postLeads(t, 10);
    await waitFor("attempts refused for a while", () => mailbox.attempts >= 3);
    t.proc.kill("SIGKILL");
    await t.proc.exited;
    t = await run();
    await postLeads(t, 10);
    mailbox.mode = "ok";
    await waitFor("some delivered", () => mailbox.messages.length >= 3);
    t.proc.kill("SIGKILL"); // mid-delivery
    await t.proc.exited;
    t = await run();
    await postLeads(t, 10);
    await waitFor(
      "every lead at the CRM",
      () =>
        new Set(mailbox.messages.map((m) => /source="trackd">([^<]+)</.exec(m.text!)![1])).size ===
        leads.length,
      30000,
    );
    await waitFor("every lead dead-lettered for the refused recipient", async () => {
      const r = await fetch(`${t.url}/admin/api/dead-letters?sink=crm-gone&limit=1000`, {
        headers: adminAuth,
      });
      return ((await r.json()) as { deadLetters: unknown[] }).deadLetters.length === leads.length;
    });
    await Bun.sleep(500); // anything sent twice would have arrived by now
    const newOnes = new Map<string, number>();
    for (const m of mailbox.messages) {
      const id = /source="trackd">([^<]+)</.exec(m.text!)![1]!;
      expect(m.to).toMatchObject({ text: "leads@crm.example" });
      if (m.text!.includes('status="new"')) newOnes.set(id, (newOnes.get(id) ?? 0) + 1);
    }
    expect([...newOnes.values()].filter((n) => n > 1)).toEqual([]);
    // Only a lead in flight at a kill (one per kill) can arrive twice, the second as a resend.
    expect(mailbox.messages.length).toBeLessThanOrEqual(leads.length + 2);
    const sinks = (await (
      await fetch(`${t.url}/admin/api/sinks`, { headers: adminAuth })
    ).json()) as {
      sinks: { name: string; failed: number; lag: { events: number } }[];
    };
    expect(sinks.sinks.find((s) => s.name === "crm")!.lag.events).toBe(0);
    await t.stop();
  }, 90000);
});
