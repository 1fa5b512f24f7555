/** The leads CSV: no cell a spreadsheet would run as a formula, whatever the list separator. */
import { describe, expect, test } from "bun:test";
import { leadsCsv } from "../../server/http/lead-export.ts";
import type { LeadSummary } from "../../server/journey/leads.ts";

const lead = (label: string): LeadSummary =>
  ({
    lead: {
      eventId: "e",
      occurredAt: "t",
      trackerId: "1",
      action: "submit",
      object: "form",
      vendor: "V",
      product: "P",
      instanceId: "i",
      label,
    },
    matched: false,
    devices: 0,
    visitsBefore: 0,
    firstVisitAt: null,
    lastVisitAt: null,
    firstTouch: null,
    lastTouch: null,
    truncated: false,
  }) as unknown as LeadSummary;

/** The cells Excel sees when it splits a line at `separator` (quotes only count at a cell's start). */
function excelCells(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' && cell === "" && !quoted) quoted = true;
    else if (c === '"' && quoted && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"' && quoted) quoted = false;
    else if (c === separator && !quoted) {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  return [...cells, cell];
}

describe("the leads CSV", () => {
  test("no cell starts a formula, split at a comma or at a semicolon", () => {
    const labels = [
      "=1+1",
      "+1",
      "-1+2",
      "@SUM(A1)",
      "\t=1",
      "\r=1",
      'x;=HYPERLINK("http://evil.example","click")',
      "x; =1+1",
      "x;;@cmd",
      'a,b;=c,"d"',
      "plain; text",
    ];
    const csv = leadsCsv(labels.map(lead));
    for (const line of csv.split("\r\n").slice(1, -1))
      for (const separator of [",", ";"])
        for (const cell of excelCells(line, separator))
          expect([separator, cell, /^[=+\-@\t\r]/.test(cell.trimStart())]).toEqual([
            separator,
            cell,
            false,
          ]);
  });

  test("leaves text without a formula as it was", () => {
    const row = leadsCsv([lead("plain; text")]).split("\r\n")[1]!;
    expect(row).toContain("plain; text");
  });
});
