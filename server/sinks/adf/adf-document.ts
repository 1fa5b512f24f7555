/**
 * A lead as an ADF/XML 1.0 document (the Auto-lead Data Format dealer CRMs take), built with
 * xmlbuilder2 so every value is escaped by the library. Valid against the ADF 1.0 DTD (the
 * tests run xmllint): a prospect with trackd's ID and the vendor's instance ID, the request
 * date, the vehicle (year, make and model elements always present, as the DTD wants), the
 * customer's contact, the dealer as `vendor` and the lead's vendor and product as `provider`.
 * The attribution travels in the customer's `comments`, where CRMs show lead notes.
 *
 * The text is ASCII: every other character is written as a character reference, so an e-mail
 * body that is only the XML survives any mail path and CRM parser unchanged.
 */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import type { LeadFacts, TouchFacts } from "../../events/lead-facts.ts";
import { CLICK_PARAMS } from "../../events/landing.ts";

export interface AdfOptions {
  /** How the CRM can reach the dealership: the DTD's vendor contact needs one of the two. */
  dealerEmail: string | null;
  dealerPhone: string | null;
  /** An earlier attempt's outcome is unknown: the prospect's status is "resend". */
  resend: boolean;
}

/**
 * A value for xmlbuilder2's txt() and att(): it leaves an "&" that begins one of XML's five
 * entities (&amp; &lt; &gt; &apos; &quot;) as it is, taking it for escaped already, so a
 * customer's text "&lt;" would arrive as "<". Escaping every "&" first makes each such one
 * "&amp;…", which it then leaves alone, and the rest it escapes as usual.
 */
const x = (value: string) => value.replaceAll("&", "&amp;");

/** ISO 8601 with an offset and no fraction, as ADF's examples write times. */
const adfTime = (iso: string) => iso.replace(/(\.\d+)?Z$/, "+00:00");

/** Every character past ASCII as a character reference (the text is XML already escaped). */
function asciiOnly(xml: string): string {
  let out = "";
  for (const ch of xml) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x7f ? ch : `&#x${cp.toString(16).toUpperCase()};`;
  }
  return out;
}

/** One touch as a line: when, where from, which campaign and click. */
function touchLine(name: string, t: TouchFacts): string {
  const parts = [`${name}: ${adfTime(t.at)}`];
  if (t.source) parts.push(`source: ${t.source}`);
  if (t.medium) parts.push(`medium: ${t.medium}`);
  if (t.campaign) parts.push(`campaign: ${t.campaign}`);
  for (const p of CLICK_PARAMS) if (t.clickIds[p]) parts.push(`${p}: ${t.clickIds[p]}`);
  if (t.clickIds.fbc) parts.push(`fbc: ${t.clickIds.fbc}`);
  if (!t.source && !t.campaign && t.referrer) parts.push(`referrer: ${t.referrer}`);
  if (t.landingPage) parts.push(`landing page: ${t.landingPage}`);
  return parts.join("; ");
}

/** The attribution as the comments' lines, for a person reading the lead in the CRM. */
export function attributionText(facts: LeadFacts): string {
  const a = facts.attribution;
  const lines = [`Lead from ${facts.vendor} (${facts.product}), tracked by trackd.`];
  if (a.first && a.last) {
    lines.push(touchLine("First touch", a.first));
    if (a.visits > 1) lines.push(touchLine("Last touch", a.last));
    lines.push(`Visits before the lead: ${a.visits}; pages viewed: ${a.pageViews}.`);
  } else lines.push("No website visit found before the lead.");
  if (a.vehiclesViewed.length > 0) lines.push(`Vehicles viewed: ${a.vehiclesViewed.join(", ")}.`);
  if (facts.journeyUrl) lines.push(`Journey: ${facts.journeyUrl}`);
  return lines.join("\n");
}

/** Adds an element with text only when there is a value. */
function maybe(parent: XMLBuilder, name: string, value: string | number | undefined | null) {
  if (value !== undefined && value !== null && value !== "") parent.ele(name).txt(x(String(value)));
}

function addVehicle(prospect: XMLBuilder, facts: LeadFacts): void {
  const v = facts.vehicle ?? {};
  const el = prospect.ele("vehicle");
  if (v.interest) el.att("interest", v.interest);
  if (v.status) el.att("status", v.status);
  el.ele("year").txt(x(v.year === undefined ? "" : String(v.year)));
  el.ele("make").txt(x(v.make ?? ""));
  el.ele("model").txt(x(v.model ?? ""));
  maybe(el, "vin", v.vin);
  maybe(el, "stock", v.stock);
  maybe(el, "trim", v.trim);
  if (v.price !== undefined)
    el.ele("price")
      .att("type", "asking")
      .att("currency", "USD")
      .txt(x(String(v.price)));
  if (facts.vehicleInferred)
    el.ele("comments").txt(
      x("Inferred by trackd: the last vehicle the shopper viewed before the lead."),
    );
  else if (!facts.vehicle)
    el.ele("comments").txt("No vehicle was given with the lead or viewed before it.");
}

function addCustomer(prospect: XMLBuilder, facts: LeadFacts): void {
  const c = facts.customer ?? {};
  const contact = prospect.ele("customer").ele("contact");
  if (c.firstName) contact.ele("name").att("part", "first").txt(x(c.firstName));
  if (c.lastName) contact.ele("name").att("part", "last").txt(x(c.lastName));
  if (!c.firstName && !c.lastName) contact.ele("name").att("part", "full").txt("");
  maybe(contact, "email", c.email);
  if (c.phone)
    contact
      .ele("phone")
      .att("type", c.phoneType ?? "voice")
      .txt(x(c.phone));
  if (!c.email && !c.phone) contact.ele("email").txt(""); // erased: the DTD still wants one
  const a = c.address;
  if (a) {
    const address = contact.ele("address");
    address
      .ele("street")
      .att("line", "1")
      .txt(x(a.street ?? ""));
    maybe(address, "city", a.city);
    maybe(address, "regioncode", a.region);
    maybe(address, "postalcode", a.postalCode);
    maybe(address, "country", a.country);
  }
  const comments = [c.comments, attributionText(facts)].filter(Boolean).join("\n\n");
  contact.up().ele("comments").txt(x(comments));
}

/** The lead as an ADF 1.0 document. */
export function adfDocument(facts: LeadFacts, options: AdfOptions): string {
  const doc = create({ invalidCharReplacement: "\uFFFD" } as never).dec({
    version: "1.0",
    encoding: "UTF-8",
  });
  doc.ins("adf", 'version="1.0"');
  const prospect = doc
    .ele("adf")
    .ele("prospect")
    .att("status", options.resend ? "resend" : "new");
  prospect.ele("id").att("sequence", "1").att("source", "trackd").txt(x(facts.eventId));
  prospect.ele("id").att("sequence", "2").att("source", x(facts.vendor)).txt(x(facts.instanceId));
  prospect.ele("requestdate").txt(x(adfTime(facts.occurredAt)));
  addVehicle(prospect, facts);
  addCustomer(prospect, facts);
  const vendor = prospect.ele("vendor");
  vendor.ele("vendorname").txt(x(facts.dealer));
  const dealer = vendor.ele("contact");
  dealer.ele("name").att("part", "full").att("type", "business").txt(x(facts.dealer));
  if (options.dealerEmail) dealer.ele("email").txt(x(options.dealerEmail));
  if (options.dealerPhone || !options.dealerEmail)
    dealer.ele("phone").txt(x(options.dealerPhone ?? ""));
  const provider = prospect.ele("provider");
  provider.ele("name").att("part", "full").att("type", "business").txt(x(facts.vendor));
  provider.ele("service").txt(x(facts.product));
  return asciiOnly(doc.end({ prettyPrint: true }));
}
