/**
 * The ADF document alone: every naughty string (and `]]>`, control characters, astral
 * characters, entity-like text) as the customer's name and comments, the vendor, the product
 * and the dealer gives a document that validates against the ADF 1.0 DTD and reads back to
 * the same text (as @xmldom/xmldom, a W3C DOM parser, reads it), with only characters XML cannot carry replaced (U+FFFD).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LeadFacts } from "../../server/events/lead-facts.ts";
import { DOMParser } from "@xmldom/xmldom";
import { adfDocument } from "../../server/sinks/adf/adf-document.ts";
import { leadFactsFixture } from "../helpers/lead-facts.ts";
import { requireCommand } from "../helpers/system-package.ts";
import { tempDir } from "../helpers/test-app.ts";

const DTD = join(import.meta.dir, "../fixtures/adf/adf-1.0.dtd");
const naughty = JSON.parse(
  readFileSync(join(import.meta.dir, "../fixtures/blns/blns.json"), "utf8"),
) as string[];
const extra = ["]]>", "&amp;", "&lt;x&gt;", "a\u0000b\u0007c", "\uFFFE\uFFFF", "𝕏🚗", "\u202eevil"];

/** What XML 1.0 can carry of a string: the rest becomes U+FFFD, as the document writes it. */
const carried = (s: string) =>
  [...s]
    .map((ch) => {
      const c = ch.codePointAt(0)!;
      const ok =
        c === 9 ||
        c === 10 ||
        c === 13 ||
        (c >= 0x20 && c <= 0xd7ff) ||
        (c >= 0xe000 && c <= 0xfffd) ||
        c >= 0x10000;
      return ok ? ch : "\uFFFD";
    })
    .join("")
    .replace(/\r\n?/g, "\n"); // XML parsers normalize line ends

function facts(value: string): LeadFacts {
  return leadFactsFixture({
    dealer: value || "Dealer",
    vendor: value || "Vendor",
    product: value || "Product",
    instanceId: value || "instance",
    customer: { firstName: value || "A", lastName: "Lee", email: "a@b.example", comments: value },
    vehicle: { year: 2024, make: value || "Make", model: "Model" },
  });
}

describe("an ADF document", () => {
  test("is valid and reads back the same for every naughty string", () => {
    requireCommand("xmllint", "libxml2-utils");
    const strings = [...naughty, ...extra];
    const dir = tempDir("trackd-adf-");
    const files: string[] = [];
    strings.forEach((s, i) => {
      const xml = adfDocument(facts(s), {
        dealerEmail: "d@x.example",
        dealerPhone: null,
        resend: false,
      });
      expect([...xml].every((c) => c.charCodeAt(0) < 0x7f)).toBe(true);
      const file = join(dir, `${i}.xml`);
      writeFileSync(file, xml);
      files.push(file);
      const doc = new DOMParser().parseFromString(xml, "text/xml");
      const textOf = (tag: string) => doc.getElementsByTagName(tag)[0]!.textContent;
      const [first, make] = [textOf("name"), textOf("make")];
      expect({ i, first }).toEqual({ i, first: carried(s) || "A" });
      expect({ i, make }).toEqual({ i, make: carried(s) || "Make" });
    });
    // One xmllint for all of them: it names every file that is not valid.
    const run = Bun.spawnSync(["xmllint", "--noout", "--dtdvalid", DTD, ...files]);
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
  });

  test("a resend says so; a lead without a vehicle still has year, make and model", () => {
    const f = { ...facts("x"), vehicle: null };
    const xml = adfDocument(f, { dealerEmail: null, dealerPhone: "+15125550100", resend: true });
    expect(xml).toContain('<prospect status="resend">');
    expect(xml).toContain("<year/>");
    expect(xml).toContain("No vehicle was given with the lead or viewed before it.");
    expect(xml).toContain("<phone>+15125550100</phone>");
  });
});
