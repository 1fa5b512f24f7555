/**
 * A lead's customer and vehicle: validated with precise errors, hashed by trackd, sealed
 * apart from the event (never in the event, the reject log or an oa_debug answer), opened
 * only through the vault, and erased with its day's key after pii.retentionDays.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { contactHashes, googleEmail } from "../../server/events/lead-details.ts";
import type { DeliveryItem, Sink } from "../../server/sinks/types.ts";
import { withCustomer } from "../../server/sinks/with-customer.ts";
import { Retention } from "../../server/store/retention.ts";
import { createLog } from "../../server/telemetry/log.ts";
import { filesUnder } from "../helpers/files.ts";
import { createTestApp, errorOf, type TestApp, validEvent } from "../helpers/test-app.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A lead as a chat vendor's back end sends it, with a real-shaped customer and vehicle. */
export const leadWithCustomer = (overrides: Record<string, unknown> = {}) =>
  validEvent({
    action: "submit",
    object: "lead",
    vendor: "ChatVendor",
    product: "LiveChat Pro",
    instance_id: "0b8e7c1e-5a0f-4c57-9d3e-2f6b1a9c8d74",
    customer: {
      firstName: "Zoë",
      lastName: "O'Brien-Núñez",
      email: "  Zoe.OBrien+cars@Gmail.com ",
      phone: "(512) 555-0147",
      phoneType: "cellphone",
      address: { street: "1 Main St", city: "Austin", region: "TX", postalCode: "78701" },
      comments: "Is the blue one still there?\nCall after 5.",
    },
    vehicle: {
      interest: "buy",
      status: "used",
      year: "2021",
      make: "Toyota",
      model: "RAV4",
      trim: "XLE",
      vin: "2t3p1rfv8mc123456",
      stock: "A1234",
      price: 27995,
    },
    ...overrides,
  });

let t: TestApp;
afterEach(() => t?.close());

describe("a lead's customer", () => {
  test("is sealed apart from the event; the event keeps the vehicle, a marker and the hashes", async () => {
    t = await createTestApp();
    const res = await t.collect(leadWithCustomer());
    expect(res.status).toBe(204);
    const eventId = res.headers.get("x-event-id")!;
    const event = t.store.events.get(eventId)!;
    const json = JSON.stringify(event);
    for (const secret of [
      "Zoë",
      "O'Brien",
      "obrien",
      "555-0147",
      "5125550147",
      "Main St",
      "blue one",
    ])
      expect(json.toLowerCase()).not.toContain(secret.toLowerCase());
    expect(event.properties.vehicle).toEqual({
      interest: "buy",
      status: "used",
      year: 2021,
      make: "Toyota",
      model: "RAV4",
      trim: "XLE",
      vin: "2T3P1RFV8MC123456",
      stock: "A1234",
      price: 27995,
    });
    expect(event.properties.emailSha256).toBe(sha256("zoe.obrien+cars@gmail.com"));
    expect(event.properties.phoneSha256).toBe(sha256("15125550147"));
    expect(event.properties.customer).toEqual({
      sealed: true,
      fields: ["firstName", "lastName", "email", "phone", "phoneType", "address", "comments"],
      googleEmailSha256: sha256("zoeobrien@gmail.com"),
      googlePhoneSha256: sha256("+15125550147"),
    });
    const contact = t.store.contacts.open(eventId, true);
    expect(contact).toEqual({
      state: "kept",
      customer: {
        firstName: "Zoë",
        lastName: "O'Brien-Núñez",
        email: "Zoe.OBrien+cars@Gmail.com",
        phone: "+15125550147",
        phoneType: "cellphone",
        address: { street: "1 Main St", city: "Austin", region: "TX", postalCode: "78701" },
        comments: "Is the blue one still there?\nCall after 5.",
      },
    });
    await t.store.close();
    const bytes = filesUnder(t.dir);
    for (const secret of ["O'Brien-N", "OBrien+cars", "5125550147", "555-0147", "1 Main St"])
      expect(bytes).not.toContain(secret);
    // The key file is the owner's alone.
    expect(statSync(join(t.dir, "pii-keys.json")).mode & 0o777).toBe(0o600);
    t = await createTestApp(); // a fresh one for afterEach to close
  });

  test("the link index finds the lead by the hash trackd made, as by one the Web SDK made", async () => {
    t = await createTestApp();
    const res = await t.collect(leadWithCustomer());
    const hashes = contactHashes({ email: "zoe.obrien+cars@gmail.com", phone: "+15125550147" });
    const event = t.store.events.get(res.headers.get("x-event-id")!)!;
    expect(event.properties.emailSha256).toBe(hashes.emailSha256!);
    expect(googleEmail("J.Doe+x@googlemail.com ")).toBe("jdoe@googlemail.com");
    expect(googleEmail("J.Doe+x@example.com")).toBe("j.doe+x@example.com");
  });

  test("bad fields get precise errors that never echo the value", async () => {
    t = await createTestApp();
    const res = await t.collect(
      leadWithCustomer({
        customer: {
          firstName: 42,
          email: "not-an-email jane@x",
          phone: "555",
          phoneType: "landline",
          middle: "x",
          address: { zip: "78701" },
        },
        vehicle: { year: 1850, vin: "IOQ12345678901234", price: -1, colour: "blue" },
        emailSha256: sha256("someone.else@example.com"),
      }),
    );
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    const got = error.details.map((d) => `${d.path} ${d.code}`).sort();
    expect(got).toEqual(
      [
        "/customer/firstName invalid_type",
        "/customer/email invalid_value",
        "/customer/phone invalid_value",
        "/customer/phoneType invalid_value",
        "/customer/middle unknown_field",
        "/customer/address/zip unknown_field",
        "/vehicle/year invalid_value",
        "/vehicle/vin invalid_value",
        "/vehicle/price invalid_value",
        "/vehicle/colour unknown_field",
      ].sort(),
    );
    expect(JSON.stringify(error)).not.toContain("jane@x");
    // The reject log keeps the refusal, without the customer.
    await t.store.rejects.written();
    const rejects = await (await t.admin("/rejects")).json();
    const sample = JSON.stringify(rejects);
    expect(sample).toContain("unknown_field");
    expect(sample).not.toContain("jane@x");
    expect(sample).toContain("(withheld)");
  });

  test("a customer needs an email or a phone; a hash sent beside it must agree", async () => {
    t = await createTestApp();
    let res = await t.collect(leadWithCustomer({ customer: { firstName: "Ann" } }));
    expect((await errorOf(res)).details).toEqual([
      expect.objectContaining({ path: "/customer", code: "required" }),
    ]);
    res = await t.collect(
      leadWithCustomer({
        customer: { email: "ann@example.com" },
        emailSha256: sha256("bob@example.com"),
      }),
    );
    expect((await errorOf(res)).details).toEqual([
      expect.objectContaining({ path: "/emailSha256", code: "conflict" }),
    ]);
    res = await t.collect(
      leadWithCustomer({
        customer: { email: "ann@example.com" },
        emailSha256: sha256("ann@example.com"),
      }),
    );
    expect(res.status).toBe(204);
  });

  test("oa_debug shows the marker, never the contact", async () => {
    t = await createTestApp();
    const res = await t.collect(leadWithCustomer(), { query: "?oa_debug=true" });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('"sealed":true');
    expect(text).not.toContain("OBrien");
    expect(text).not.toContain("0147");
  });

  test("hostile text is kept as sent, control characters refused", async () => {
    t = await createTestApp();
    const hostile = `]]><script>alert(1)</script>&amp;"'\u202e𝕏`;
    const ok = await t.collect(
      leadWithCustomer({
        customer: { firstName: hostile, email: "a@b.example", comments: hostile },
      }),
    );
    expect(ok.status).toBe(204);
    const contact = t.store.contacts.open(ok.headers.get("x-event-id")!, true);
    expect(contact.state === "kept" && contact.customer.firstName).toBe(hostile);
    const bad = await t.collect(
      leadWithCustomer({ customer: { firstName: "a\u0000b", email: "a@b.example" } }),
    );
    expect((await errorOf(bad)).details[0]).toMatchObject({
      path: "/customer/firstName",
      code: "invalid_value",
    });
  });

  test("after pii.retentionDays the day's key and the record go: the lead says erased", async () => {
    let now = Date.parse("2026-11-01T12:00:00Z");
    t = await createTestApp({ pii: { retentionDays: 30 } }, { now: () => now });
    const res = await t.collect(leadWithCustomer());
    const eventId = res.headers.get("x-event-id")!;
    expect(t.store.contacts.keys.days()).toEqual(["2026-11-01"]);
    const retention = new Retention(t.store, {
      retentionMs: 365 * 86_400_000,
      lookbackMs: 90 * 86_400_000,
      piiRetentionMs: 30 * 86_400_000,
      capBytes: 0,
      minCursor: () => null,
      log: createLog("error"),
      now: () => now,
    });
    await retention.sweep();
    expect(t.store.contacts.open(eventId, true).state).toBe("kept");
    now += 31 * 86_400_000;
    await retention.sweep();
    expect(t.store.contacts.open(eventId, true)).toEqual({ state: "erased" });
    expect(t.store.contacts.keys.days()).toEqual([]);
    expect(t.store.contacts.count()).toBe(0);
    expect(t.store.events.get(eventId)!.properties.emailSha256).toBeString(); // the lead stays
  });

  test("a sink with includeCustomer gets the customer opened; others get the marker", async () => {
    t = await createTestApp();
    const lead = (await t.collect(leadWithCustomer())).headers.get("x-event-id")!;
    const other = (await t.collect(validEvent())).headers.get("x-event-id")!;
    const got: DeliveryItem[] = [];
    const inner: Sink = {
      name: "hook",
      kind: "test",
      send: async (batch) => {
        got.push(...batch);
        return { kind: "ok" };
      },
      health: async () => ({ ok: true, detail: "" }),
      close: async () => {},
    };
    const sink = withCustomer(inner, (id) => {
      const c = t.store.contacts.open(id, true);
      return c.state === "kept" ? c.customer : null;
    });
    const items = [lead, other].map((id) => ({
      eventId: id,
      json: JSON.stringify(t.store.events.get(id)),
    }));
    await sink.send(items);
    const [withIt, without] = got.map((i) => JSON.parse(i.json));
    expect(withIt.properties.customer).toMatchObject({ firstName: "Zoë", phone: "+15125550147" });
    expect(withIt.properties.emailSha256).toBe(sha256("zoe.obrien+cars@gmail.com"));
    expect(got[1]!.json).toBe(items[1]!.json); // untouched
    expect(without.properties.customer).toBeUndefined();
    // The stored event itself still holds only the marker.
    expect(t.store.events.get(lead)!.properties.customer).toMatchObject({ sealed: true });
  });
});
