/**
 * Identifier values that never link two events: what forms and apps send when there is no
 * real value (a user ID of "null" or "0", a typed `none@none.com`, a phone of 0000000000).
 * Two shoppers who both typed the same placeholder are strangers; the journey reports such an
 * identifier as `junk` and does not follow it (journey.ts). The values are read when a journey
 * is built, not when events are stored, so the list applies to events stored before it grew.
 * The list is documented in docs/matching.md (Identifiers); PostHog, Segment and RudderStack
 * keep lists of the same kind.
 */
import { createHash } from "node:crypto";
import type { LinkKind } from "../events/links.ts";

/** User IDs that name nobody, compared trimmed and lower-cased. */
const JUNK_USER_IDS = new Set([
  "",
  "0",
  "-1",
  "null",
  "nil",
  "none",
  "undefined",
  "nan",
  "false",
  "true",
  "anonymous",
  "anon",
  "guest",
  "unknown",
  "user",
  "test",
  "n/a",
  "na",
  "[object object]",
]);

/** Placeholder emails, hashed as the Web SDK hashes an email (trimmed, lower-cased). */
const PLACEHOLDER_EMAILS = [
  "test@test.com",
  "none@none.com",
  "noemail@noemail.com",
  "noemail@email.com",
  "noemail@gmail.com",
  "no@email.com",
  "no@no.com",
  "nomail@nomail.com",
  "none@gmail.com",
  "na@na.com",
  "email@email.com",
  "test@example.com",
  "example@example.com",
  "user@example.com",
  "test@gmail.com",
  "a@a.com",
  "abc@abc.com",
  "asdf@asdf.com",
  "123@123.com",
  "noreply@noreply.com",
  "donotreply@donotreply.com",
];

/**
 * Placeholder phones, as digits: each is listed bare and with the North American country
 * code, since the Web SDK adds "1" to ten digits and a vendor may not.
 */
const PLACEHOLDER_PHONES = [
  "0000000000",
  "1111111111",
  "1234567890",
  "5555555555",
  "9999999999",
  "8888888888",
  "0123456789",
];

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const JUNK_EMAIL_HASHES = new Set(PLACEHOLDER_EMAILS.map(sha256));
const JUNK_PHONE_HASHES = new Set(PLACEHOLDER_PHONES.flatMap((p) => [sha256(p), sha256(`1${p}`)]));

/** The built-in lists as documented: user IDs as they are, emails and phones before hashing. */
export const JUNK_IDENTIFIERS = {
  userIds: [...JUNK_USER_IDS],
  emails: PLACEHOLDER_EMAILS,
  phones: PLACEHOLDER_PHONES,
} as const;

/** Whether an identifier of this kind and value is a placeholder (of the built-in list, or an account's). */
export type IsJunk = (kind: LinkKind, value: string) => boolean;

/** Digits of a phone as the Web SDK hashes it (country code kept; "00" dropped). */
const phoneDigits = (phone: string) => {
  const digits = phone.replace(/\D/g, "");
  return digits.startsWith("00") ? digits.slice(2) : digits;
};

/**
 * An account's own placeholder values (registry: Account.junkIdentifiers), raw as staff type
 * them: each is taken as a user or instance ID (trimmed, lower-cased), as an email (hashed
 * as the Web SDK hashes one) and, if it has 7 digits or more, as a phone (hashed with and
 * without the North American "1"). The built-in list applies too.
 */
export function junkOf(values: readonly string[]): IsJunk {
  if (values.length === 0) return isJunkIdentifier;
  const ids = new Set(values.map((v) => v.trim().toLowerCase()));
  const emails = new Set(values.map((v) => sha256(v.trim().toLowerCase())));
  const phones = new Set(
    values
      .map(phoneDigits)
      .filter((d) => d.length >= 7)
      .flatMap((d) => [sha256(d), sha256(`1${d}`)]),
  );
  const own: JunkLists = { ids, emails, phones };
  return (kind, value) => isJunkIdentifier(kind, value) || inLists(own, kind, value);
}

/** Placeholder user and instance IDs (trimmed, lower-cased), email and phone hashes. */
interface JunkLists {
  ids: Set<string>;
  emails: Set<string>;
  phones: Set<string>;
}

function inLists(lists: JunkLists, kind: LinkKind, value: string): boolean {
  switch (kind) {
    case "user":
    case "instance": // a vendor's `instance_id: "undefined"` is the same kind of accident
      return lists.ids.has(value.trim().toLowerCase());
    case "email":
      return lists.emails.has(value.toLowerCase());
    case "phone":
      return lists.phones.has(value.toLowerCase());
    default:
      return false;
  }
}

const BUILT_IN: JunkLists = {
  ids: JUNK_USER_IDS,
  emails: JUNK_EMAIL_HASHES,
  phones: JUNK_PHONE_HASHES,
};

/** True if an identifier of this kind and value is a placeholder that must not link events. */
export function isJunkIdentifier(kind: LinkKind, value: string): boolean {
  return inLists(BUILT_IN, kind, value);
}
