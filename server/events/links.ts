/**
 * What an event can be linked to other events by: its instance ID, and the identifiers it
 * carries among its properties (the Web SDK's device ID, a site's user ID, SHA-256 hashes of a
 * normalized email or phone). The event writer indexes each (account, kind, value) at ingest;
 * the shopper's journey follows them when asked. Stored events are never rewritten.
 */
import type { TrackedEvent } from "./event.model.ts";

export type LinkKind = "instance" | "device" | "user" | "email" | "phone";

/** Identifier fields (top level of the body, kept in `properties`) and the link each makes. */
export const IDENTIFIER_FIELDS = [
  { field: "deviceId", kind: "device" },
  { field: "userId", kind: "user" },
  { field: "emailSha256", kind: "email" },
  { field: "phoneSha256", kind: "phone" },
] as const satisfies readonly { field: string; kind: LinkKind }[];

/** Links a device's events repeat on every event: the writer indexes them once per device and day (link-index.ts). */
export const PER_DEVICE_KINDS = new Set<string>(["user", "email", "phone"]);

/** Hashed identifiers: 64 hex digits, indexed lowercase. */
export const HASHED_FIELDS = new Set<string>(["emailSha256", "phoneSha256"]);

/** The Web SDK's visit ID: groups a journey's events into visits (not a link by itself). */
export const VISIT_FIELD = "visitId";

/**
 * An index entry that every server-side event also gets (with value ""), so that the leads
 * of an account over a time range are read without scanning its browser events.
 */
export const SERVER_EVENTS = "server";

const stringField = (event: TrackedEvent, field: string): string | null => {
  const v = event.properties[field];
  return typeof v === "string" && v !== "" ? v : null;
};

/** SHA-256 in hex, as hashed identifiers are sent (any case; indexed lower case). */
export const isSha256Hex = (text: string): boolean => /^[0-9a-fA-F]{64}$/.test(text);

/**
 * The identifier fields the event carries, each with its link kind and its value as indexed
 * (hashes lower case), whether or not the event is linked by them (a bot's is not).
 */
export function carriedIdentifiers(
  event: TrackedEvent,
): { field: string; kind: LinkKind; value: string }[] {
  const out: { field: string; kind: LinkKind; value: string }[] = [];
  for (const { field, kind } of IDENTIFIER_FIELDS) {
    const value = stringField(event, field);
    if (value !== null)
      out.push({ field, kind, value: HASHED_FIELDS.has(field) ? value.toLowerCase() : value });
  }
  return out;
}

/** The event's device ID (the Web SDK's), or "" if it has none. */
export function deviceOf(event: TrackedEvent): string {
  return stringField(event, "deviceId") ?? "";
}

/**
 * Who the event is from, as far as it says: "d:" and its device ID, else "u:" user ID, "e:"
 * email hash or "p:" phone hash, else "". Kept with every link index entry, so a reader can
 * tell how many different shoppers an identifier spans without loading the events: a
 * shared instance ID on server-side leads with different phones spans as many shoppers.
 */
export function shopperKeyOf(event: TrackedEvent): string {
  const device = stringField(event, "deviceId");
  if (device !== null) return `d:${device}`;
  const first = carriedIdentifiers(event)[0];
  return first ? `${first.kind[0]}:${first.value}` : "";
}

/** The device ID in a shopper key, or null if the key is not a device's. */
export const deviceInKey = (key: string): string | null =>
  key.startsWith("d:") ? key.slice(2) : null;

/** The event's visit ID, or null. */
export function visitOf(event: TrackedEvent): string | null {
  return stringField(event, VISIT_FIELD);
}

/**
 * The (kind, value) pairs the event is indexed under, flat: [kind, value, kind, value, ...].
 * A bot's event kept out of journeys (ingest/bots.ts) is indexed under none: nothing reaches
 * it; nor is trackd's own erasure record.
 */
export function linksOf(event: TrackedEvent): string[] {
  if (event.context.bot?.excluded || event.context.source === "trackd") return [];
  const out: string[] = ["instance", event.instanceId];
  for (const { kind, value } of carriedIdentifiers(event)) out.push(kind, value);
  if (event.context.source === "server") out.push(SERVER_EVENTS, "");
  return out;
}
