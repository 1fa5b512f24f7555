/** Leads as CSV (a spreadsheet's view: one row per lead, its campaign in columns) and NDJSON (one summary per line). */
import type { LeadSummary, Touch } from "../journey/leads.ts";
import { CLICK_NETWORKS, CLICK_PARAMS } from "../events/landing.ts";

const touchColumns = (prefix: string) => [
  `${prefix}_at`,
  `${prefix}_source`,
  `${prefix}_medium`,
  `${prefix}_campaign`,
  `${prefix}_referrer`,
  `${prefix}_landing_page`,
  `${prefix}_click_network`,
  `${prefix}_click_id`,
  `${prefix}_fbc`,
  `${prefix}_fbp`,
];

export const LEAD_CSV_COLUMNS = [
  "event_id",
  "occurred_at",
  "tracker_id",
  "action",
  "object",
  "vendor",
  "product",
  "instance_id",
  "label",
  "matched",
  "unmatched_reason",
  "devices",
  "visits_before",
  "first_visit_at",
  "last_visit_at",
  ...touchColumns("first_touch"),
  ...touchColumns("last_touch"),
];

/** A touch's click: the first click parameter it has (CLICK_PARAMS order) and its network. */
function clickOf(t: Touch): [string, string] {
  for (const key of CLICK_PARAMS) {
    const id = t.clickIds[key];
    if (id) return [CLICK_NETWORKS[key], id];
  }
  return ["", ""];
}

const touchCells = (t: Touch | null) =>
  t
    ? [
        t.start,
        t.utm.source,
        t.utm.medium,
        t.utm.campaign,
        t.referrer,
        t.landingPage,
        ...clickOf(t),
        t.clickIds.fbc,
        t.clickIds.fbp,
      ]
    : Array<string>(10).fill("");

/** A formula's first character (= + - @, tab, CR) at the start of a cell or after a `;`. */
const FORMULA_START = /(^|;)( *)(?=[=+\-@\t\r])/g;

/**
 * One CSV cell (RFC 4180 quoting). A value that a spreadsheet would run as a formula gets an
 * apostrophe before it: event fields come from clients. Also after a `;`: in locales whose list
 * separator is `;` (much of Europe and Latin America), Excel splits a line there, quoted or
 * not, so `x;=HYPERLINK(…)` would start a formula in a cell of its own.
 */
function cell(value: unknown): string {
  let s = value === null || value === undefined ? "" : String(value);
  s = s.replace(FORMULA_START, "$1$2'");
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV row of values (cell by cell). */
export const csvRow = (values: unknown[]): string => values.map(cell).join(",");

/** The CSV row of one lead. */
export function leadCsvRow(s: LeadSummary): string {
  const l = s.lead;
  return csvRow([
    l.eventId,
    l.occurredAt,
    l.trackerId,
    l.action,
    l.object,
    l.vendor,
    l.product,
    l.instanceId,
    l.label,
    s.matched,
    s.unmatchedReason,
    s.devices,
    s.visitsBefore,
    s.firstVisitAt,
    s.lastVisitAt,
    ...touchCells(s.firstTouch),
    ...touchCells(s.lastTouch),
  ]);
}

/**
 * Each item rendered, with `pace` awaited between them: a body of thousands of leads is built
 * without holding the thread that answers events.
 */
export async function renderPaced<T>(
  items: T[],
  render: (item: T) => string,
  pace: () => Promise<void>,
): Promise<string[]> {
  const out: string[] = [];
  for (const item of items) {
    out.push(render(item));
    await pace();
  }
  return out;
}

/** The CSV's header line, with its CRLF. */
export const csvHeader = () => `${LEAD_CSV_COLUMNS.join(",")}\r\n`;

/** The CSV file of rendered rows: the header line, then each row, CRLF after every line. */
export function csvDocument(rows: string[]): string {
  return csvHeader() + rows.map((r) => `${r}\r\n`).join("");
}

/** The whole CSV at once (tests and the bench; the API renders it paced). */
export function leadsCsv(leads: LeadSummary[]): string {
  return csvDocument(leads.map(leadCsvRow));
}
