/**
 * A lead's `customer` and `vehicle`: checked field by field, normalized, and the customer's
 * contact hashed the ways the link index and the ad platforms need. Pure, like normalize.ts:
 * the cleartext customer leaves here only to be sealed (store/contact-vault.ts); the stored
 * event keeps a marker with the field names and the hashes (customerMarker).
 */
import { createHash } from "node:crypto";
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/min";
import type { ErrorDetail } from "../errors.ts";

export const PHONE_TYPES = ["voice", "cellphone", "fax", "pager"] as const;
export const VEHICLE_INTERESTS = ["buy", "lease", "sell", "trade-in", "test-drive"] as const;
export const VEHICLE_STATUSES = ["new", "used"] as const;

export interface Address {
  street?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

/** The customer as sent, normalized: the phone in E.164 (+ and digits), the email trimmed. */
export interface Customer {
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  phoneType?: (typeof PHONE_TYPES)[number];
  address?: Address;
  comments?: string;
}

export interface Vehicle {
  interest?: (typeof VEHICLE_INTERESTS)[number];
  status?: (typeof VEHICLE_STATUSES)[number];
  year?: number;
  make?: string;
  model?: string;
  trim?: string;
  vin?: string;
  stock?: string;
  price?: number;
}

/**
 * What the stored event keeps of a customer (at `properties.customer`): which fields were
 * sent, and the hashes Google's and Meta's conversion files match on. The link index's own
 * hashes go to `emailSha256`/`phoneSha256`, as if the vendor had sent them.
 */
export interface CustomerMarker {
  sealed: true;
  fields: string[];
  /** Google: trimmed lower-case e-mail, dots and +tags removed before @gmail.com/@googlemail.com. */
  googleEmailSha256?: string;
  /** Google: the phone in E.164 with its "+". */
  googlePhoneSha256?: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** trackd's e-mail normalization (the Web SDK's, Meta's): trimmed, lower case. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Google's: also without dots and a +tag in a Gmail address's local part. */
export function googleEmail(email: string): string {
  const e = normalizeEmail(email);
  const at = e.lastIndexOf("@");
  const domain = e.slice(at + 1);
  if (domain !== "gmail.com" && domain !== "googlemail.com") return e;
  const local = e.slice(0, at).split("+")[0]!.replaceAll(".", "");
  return `${local}@${domain}`;
}

/** An e-mail's hash as events are linked by it (the Web SDK's, Meta's). */
export const emailSha256Of = (email: string) => sha256(normalizeEmail(email));

/** A phone (E.164) as events are linked by it: the digits with the country code, hashed. */
export const phoneSha256Of = (e164: string) => sha256(e164.slice(1));

/** A phone as typed, in E.164 (read in `country` if it has no country code), or null. */
export function phoneE164(phone: string, country: string): string | null {
  const parsed = parsePhoneNumberFromString(phone, country as CountryCode);
  return parsed?.isPossible() ? parsed.number : null;
}

/** True if `text` looks like an e-mail address (name@domain.tld). */
export const isEmail = (text: string) => EMAIL.test(text);

/** The hashes a customer's contact gives: the link index's and Google's. */
export function contactHashes(customer: Customer): {
  emailSha256?: string;
  phoneSha256?: string;
  googleEmailSha256?: string;
  googlePhoneSha256?: string;
} {
  const out: ReturnType<typeof contactHashes> = {};
  if (customer.email) {
    out.emailSha256 = emailSha256Of(customer.email);
    out.googleEmailSha256 = sha256(googleEmail(customer.email));
  }
  if (customer.phone) {
    out.phoneSha256 = phoneSha256Of(customer.phone);
    out.googlePhoneSha256 = sha256(customer.phone);
  }
  return out;
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
/** A C0 control character or DEL, but for tab, line feed and carriage return (`lines`: those too). */
function hasControl(text: string, lines: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const line = c === 9 || c === 10 || c === 13;
    if ((c < 32 && (lines || !line)) || c === 127) return true;
  }
  return false;
}

type Problems = ErrorDetail[];

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** A string field: trimmed, non-empty, within `max`, well-formed, no control characters but tab and newline. */
function text(
  value: unknown,
  path: string,
  max: number,
  problems: Problems,
  multiline = false,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    problems.push({
      path,
      code: "invalid_type",
      message: `Must be a string, got ${typeName(value)}.`,
    });
    return undefined;
  }
  const v = value.trim();
  if (v === "") return undefined;
  if (v.length > max)
    problems.push({ path, code: "too_long", message: `Longer than ${max} characters.` });
  else if (!v.isWellFormed())
    problems.push({ path, code: "lone_surrogate", message: "Holds an unpaired UTF-16 surrogate." });
  else if (hasControl(v, !multiline))
    problems.push({
      path,
      code: "invalid_value",
      message: multiline
        ? "Holds a control character."
        : "Holds a control character or a line break.",
    });
  else return v;
  return undefined;
}

function oneOf<T extends string>(
  value: unknown,
  path: string,
  allowed: readonly T[],
  problems: Problems,
): T | undefined {
  if (value === undefined || value === null) return undefined;
  const v = typeof value === "string" ? value.trim().toLowerCase() : value;
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  problems.push({ path, code: "invalid_value", message: `Must be one of ${allowed.join(", ")}.` });
  return undefined;
}

/** Refuses keys outside `known`, so a misspelt field is not silently dropped. */
function objectOf(
  value: unknown,
  path: string,
  known: readonly string[],
  problems: Problems,
): Record<string, unknown> | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({
      path,
      code: "invalid_type",
      message: `Must be an object, got ${typeName(value)}.`,
    });
    return null;
  }
  for (const key of Object.keys(value))
    if (!known.includes(key))
      problems.push({
        path: `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`,
        code: "unknown_field",
        message: `Not a field of ${path.slice(1)}; the fields are ${known.join(", ")}.`,
      });
  return value as Record<string, unknown>;
}

const CUSTOMER_FIELDS = [
  "firstName",
  "lastName",
  "email",
  "phone",
  "phoneType",
  "address",
  "comments",
] as const;
const ADDRESS_FIELDS = ["street", "city", "region", "postalCode", "country"] as const;
const VEHICLE_FIELDS = [
  "interest",
  "status",
  "year",
  "make",
  "model",
  "trim",
  "vin",
  "stock",
  "price",
] as const;

const NAME_MAX = 100;

/**
 * Checks and normalizes `customer`. Its problems name the path and the rule, never the value
 * (they reach the reject log and the answer's JSON). `country`: the country a phone without
 * one is read in (pii.defaultCountry).
 */
export function parseCustomer(
  value: unknown,
  country: string,
  problems: Problems,
): Customer | undefined {
  const before = problems.length;
  const body = objectOf(value, "/customer", CUSTOMER_FIELDS, problems);
  if (!body) return undefined;
  const c: Customer = {};
  const set = <K extends keyof Customer>(key: K, v: Customer[K] | undefined) => {
    if (v !== undefined) c[key] = v;
  };
  set("firstName", text(body.firstName, "/customer/firstName", NAME_MAX, problems));
  set("lastName", text(body.lastName, "/customer/lastName", NAME_MAX, problems));
  const email = text(body.email, "/customer/email", 254, problems);
  if (email !== undefined && !EMAIL.test(email))
    problems.push({
      path: "/customer/email",
      code: "invalid_value",
      message: "Not an e-mail address (name@domain.tld).",
    });
  else set("email", email);
  const phone = text(body.phone, "/customer/phone", 40, problems);
  if (phone !== undefined) {
    const e164 = phoneE164(phone, country);
    if (e164 !== null) c.phone = e164;
    else
      problems.push({
        path: "/customer/phone",
        code: "invalid_value",
        message: `Not a phone number (give the country code with +, or a number of ${country}).`,
      });
  }
  set("phoneType", oneOf(body.phoneType, "/customer/phoneType", PHONE_TYPES, problems));
  if (body.address !== undefined && body.address !== null) {
    const a = objectOf(body.address, "/customer/address", ADDRESS_FIELDS, problems);
    const address: Address = {};
    for (const key of ADDRESS_FIELDS) {
      const v = a && text(a[key], `/customer/address/${key}`, 200, problems);
      if (v) address[key] = v;
    }
    if (Object.keys(address).length > 0) c.address = address;
  }
  set("comments", text(body.comments, "/customer/comments", 4000, problems, true));
  if (problems.length > before) return undefined;
  if (c.email === undefined && c.phone === undefined) {
    problems.push({
      path: "/customer",
      code: "required",
      message: "A customer needs an email or a phone: a CRM cannot reach one without.",
    });
    return undefined;
  }
  return c;
}

/** Checks and normalizes `vehicle`: the VIN upper case, the year and price numbers. */
export function parseVehicle(value: unknown, problems: Problems): Vehicle | undefined {
  const before = problems.length;
  const body = objectOf(value, "/vehicle", VEHICLE_FIELDS, problems);
  if (!body) return undefined;
  const v: Vehicle = {};
  const interest = oneOf(body.interest, "/vehicle/interest", VEHICLE_INTERESTS, problems);
  if (interest) v.interest = interest;
  const status = oneOf(body.status, "/vehicle/status", VEHICLE_STATUSES, problems);
  if (status) v.status = status;
  if (body.year !== undefined && body.year !== null) {
    const year = typeof body.year === "string" ? Number(body.year.trim()) : body.year;
    if (typeof year === "number" && Number.isInteger(year) && year >= 1900 && year <= 2100)
      v.year = year;
    else
      problems.push({
        path: "/vehicle/year",
        code: "invalid_value",
        message: "Must be a year from 1900 to 2100.",
      });
  }
  for (const key of ["make", "model", "trim", "stock"] as const) {
    const s = text(body[key], `/vehicle/${key}`, NAME_MAX, problems);
    if (s !== undefined) v[key] = s;
  }
  const vin = text(body.vin, "/vehicle/vin", 17, problems)?.toUpperCase();
  if (vin !== undefined && !VIN.test(vin))
    problems.push({
      path: "/vehicle/vin",
      code: "invalid_value",
      message: "A VIN is 17 letters and digits, without I, O or Q.",
    });
  else if (vin !== undefined) v.vin = vin;
  if (body.price !== undefined && body.price !== null) {
    if (typeof body.price === "number" && Number.isFinite(body.price) && body.price >= 0)
      v.price = body.price;
    else
      problems.push({
        path: "/vehicle/price",
        code: "invalid_value",
        message: "Must be a number, 0 or more.",
      });
  }
  return problems.length > before ? undefined : v;
}

/** True if the event came with a customer (its marker is in place: the vault has, or had, it). */
export function hadCustomer(event: { properties: Record<string, unknown> }): boolean {
  const marker = event.properties.customer;
  return (
    typeof marker === "object" && marker !== null && (marker as CustomerMarker).sealed === true
  );
}

/** The marker the stored event keeps in place of the customer. */
export function customerMarker(customer: Customer): CustomerMarker {
  const { googleEmailSha256, googlePhoneSha256 } = contactHashes(customer);
  return {
    sealed: true,
    fields: Object.keys(customer),
    ...(googleEmailSha256 && { googleEmailSha256 }),
    ...(googlePhoneSha256 && { googlePhoneSha256 }),
  };
}

/**
 * A refused body's text as the reject log may keep it: without any `customer` (a parsed
 * body's replaced by "(withheld)"; a text that cannot be parsed and names one, withheld whole).
 */
export function withoutCustomer(text: string): string {
  if (!/customer/i.test(text)) return text;
  try {
    const body = JSON.parse(text) as unknown;
    const strip = (v: unknown) => {
      if (typeof v === "object" && v !== null && !Array.isArray(v) && "customer" in v)
        (v as Record<string, unknown>).customer = "(withheld)";
    };
    if (Array.isArray(body)) body.forEach(strip);
    else strip(body);
    return JSON.stringify(body);
  } catch {
    return "(withheld: the body may hold a customer's contact details)";
  }
}
