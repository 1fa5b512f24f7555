/**
 * Turns a parsed JSON body into the fields of the internal event, listing every problem at
 * once. Pure: no I/O, no clock; the caller adds the ID, time, context and registry flags.
 */
import type { Limits } from "../config/schema.ts";
import type { ErrorDetail } from "../errors.ts";
import { type Consent, parseConsent } from "./consent.ts";
import { classifyAction } from "./actions.ts";
import { isUuid } from "./ids.ts";
import { HASHED_FIELDS, IDENTIFIER_FIELDS, isSha256Hex, VISIT_FIELD } from "./links.ts";
import {
  contactHashes,
  type Customer,
  customerMarker,
  parseCustomer,
  parseVehicle,
} from "./lead-details.ts";
import { parseClientTime } from "./time.ts";
import type { TrackedEvent, Warning } from "./event.model.ts";

/** The event fields that come from the body. */
export type BodyFields = Pick<
  TrackedEvent,
  | "action"
  | "actionType"
  | "object"
  | "vendor"
  | "product"
  | "instanceId"
  | "label"
  | "score"
  | "properties"
  | "clientEventId"
> & {
  /** Client times in epoch milliseconds, when sent. */
  timestamp?: number;
  sentAt?: number;
  /**
   * The customer in cleartext, to be sealed apart from the event (store/contact-vault.ts);
   * the event's `properties.customer` holds only its marker.
   */
  customer?: Customer;
  /** The body's `consent` (consent.ts), put into the event's context. */
  consent?: Consent;
};

export interface Normalized {
  fields: BodyFields | null;
  problems: ErrorDetail[];
  warnings: Warning[];
}

const REQUIRED = ["action", "object", "vendor", "product"] as const;
const LONE_SURROGATE =
  "The string holds an unpaired UTF-16 surrogate (\\ud800 to \\udfff), which is not Unicode text: databases and JSON libraries downstream refuse it.";
const INSTANCE_ID_SPELLINGS = ["instance_id", "instanceID", "instanceId"] as const;
const KNOWN = new Set<string>([
  ...REQUIRED,
  ...INSTANCE_ID_SPELLINGS,
  "label",
  "score",
  "eventId",
  "timestamp",
  "sentAt",
  "customer",
  "vehicle",
  "consent",
]);

/** A JSON Pointer segment (RFC 6901). */
export function pointer(key: string): string {
  return key.includes("~") || key.includes("/")
    ? `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`
    : `/${key}`;
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** Checks a required string: present, a string, non-empty after trimming, within the length limit. */
function requiredString(
  body: Record<string, unknown>,
  key: string,
  path: string,
  limits: Limits,
  problems: ErrorDetail[],
  warnings: Warning[],
): string | undefined {
  const value = body[key];
  if (value === undefined) {
    problems.push({ path, code: "required", message: `${key} is required.` });
    return undefined;
  }
  if (typeof value !== "string") {
    problems.push({
      path,
      code: "invalid_type",
      message: `${key} must be a string, got ${typeName(value)}.`,
    });
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length === 0) {
    problems.push({ path, code: "empty", message: `${key} must not be empty.` });
    return undefined;
  }
  if (trimmed.length > limits.maxFieldLength) {
    problems.push({
      path,
      code: "too_long",
      message: `${key} is longer than ${limits.maxFieldLength} characters.`,
    });
    return undefined;
  }
  if (!trimmed.isWellFormed()) {
    problems.push({ path, code: "lone_surrogate", message: LONE_SURROGATE });
    return undefined;
  }
  if (trimmed !== value)
    warnings.push({
      path,
      code: "trimmed",
      message: `Leading or trailing whitespace was removed from ${key}.`,
    });
  return trimmed;
}

/** Resolves the one instance ID from its accepted spellings; two different values are a conflict. */
function instanceId(
  body: Record<string, unknown>,
  limits: Limits,
  problems: ErrorDetail[],
  warnings: Warning[],
): string | undefined {
  if (
    body.instance_id !== undefined &&
    body.instanceID === undefined &&
    body.instanceId === undefined
  )
    return requiredString(body, "instance_id", "/instance_id", limits, problems, warnings); // the common case
  const present = INSTANCE_ID_SPELLINGS.filter((k) => body[k] !== undefined);
  if (present.length === 0) {
    problems.push({
      path: "/instance_id",
      code: "required",
      message: "instance_id (or instanceID / instanceId) is required.",
    });
    return undefined;
  }
  const values = present.map((k) =>
    requiredString(body, k, pointer(k), limits, problems, warnings),
  );
  if (values.some((v) => v === undefined)) return undefined;
  if (new Set(values).size > 1) {
    for (const k of present)
      problems.push({
        path: pointer(k),
        code: "conflict",
        message: `${present.join(", ")} are spellings of one field and carry different values.`,
      });
    return undefined;
  }
  return values[0];
}

/**
 * True if a property value is within every limit; the fast path, building no paths.
 * `unsafeIntegers`: the text wrote an integer beyond ±2^53 (json-scan.ts), so an integral
 * number beyond it was rounded by the parser; otherwise such a number is a float (1e22).
 */
function withinLimits(
  value: unknown,
  depth: number,
  limits: Limits,
  unsafeIntegers: boolean,
): boolean {
  switch (typeof value) {
    case "string":
      return value.length <= limits.maxStringLength && value.isWellFormed();
    case "number":
      return (
        Number.isFinite(value) &&
        (!unsafeIntegers || !Number.isInteger(value) || Number.isSafeInteger(value))
      );
    case "object": {
      if (value === null) return true;
      if (depth >= limits.maxDepth) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++)
          if (!withinLimits(value[i], depth + 1, limits, unsafeIntegers)) return false;
        return true;
      }
      for (const key in value) {
        if (
          key.length > limits.maxKeyLength ||
          !key.isWellFormed() ||
          !withinLimits((value as Record<string, unknown>)[key], depth + 1, limits, unsafeIntegers)
        )
          return false;
      }
      return true;
    }
    default:
      return true;
  }
}

/** The slow path, only for values that failed withinLimits: lists each problem with its path. */
function checkValue(
  value: unknown,
  path: string,
  depth: number,
  limits: Limits,
  unsafeIntegers: boolean,
  problems: ErrorDetail[],
): void {
  switch (typeof value) {
    case "string":
      if (value.length > limits.maxStringLength)
        problems.push({
          path,
          code: "too_long",
          message: `String longer than ${limits.maxStringLength} characters.`,
        });
      else if (!value.isWellFormed())
        problems.push({ path, code: "lone_surrogate", message: LONE_SURROGATE });
      return;
    case "number":
      if (!Number.isFinite(value))
        problems.push({ path, code: "not_finite", message: "Number is too large to represent." });
      else if (unsafeIntegers && Number.isInteger(value) && !Number.isSafeInteger(value))
        problems.push({
          path,
          code: "unsafe_integer",
          message: "Integer beyond ±2^53 would lose precision; send it as a string.",
        });
      return;
    case "object": {
      if (value === null) return;
      if (depth >= limits.maxDepth) {
        problems.push({
          path,
          code: "too_deep",
          message: `Nested deeper than ${limits.maxDepth} levels.`,
        });
        return;
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++)
          checkValue(value[i], `${path}/${i}`, depth + 1, limits, unsafeIntegers, problems);
        return;
      }
      for (const key of Object.keys(value)) {
        const childPath = path + pointer(key);
        if (key.length > limits.maxKeyLength)
          problems.push({
            path: childPath,
            code: "key_too_long",
            message: `Property name longer than ${limits.maxKeyLength} characters.`,
          });
        if (!key.isWellFormed())
          problems.push({ path: childPath, code: "lone_surrogate", message: LONE_SURROGATE });
        checkValue(
          (value as Record<string, unknown>)[key],
          childPath,
          depth + 1,
          limits,
          unsafeIntegers,
          problems,
        );
      }
    }
  }
}

const IDENTITY_FIELDS = [...IDENTIFIER_FIELDS.map((f) => f.field), VISIT_FIELD];

/**
 * Identifier fields (deviceId, visitId, userId, emailSha256, phoneSha256) stay among the
 * properties, but events are linked by them, so they are checked: a string within the field
 * length, and the hashes 64 hex digits, so a raw email or phone is refused rather than stored.
 */
function checkIdentifiers(
  body: Record<string, unknown>,
  limits: Limits,
  problems: ErrorDetail[],
  warnings: Warning[],
): void {
  for (const field of IDENTITY_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    const path = pointer(field);
    if (value === null || value === "")
      warnings.push({
        path,
        code: "null_ignored",
        message: `${field} is empty: the event is not linked by it.`,
      });
    else if (typeof value !== "string")
      problems.push({
        path,
        code: "invalid_type",
        message: `${field} must be a string, got ${typeName(value)}.`,
      });
    else if (HASHED_FIELDS.has(field) && !isSha256Hex(value))
      problems.push({
        path,
        code: "invalid_value",
        message: `${field} must be the SHA-256 of the normalized value as 64 hex digits, never the value itself.`,
      });
    else if (value.length > limits.maxFieldLength)
      problems.push({
        path,
        code: "too_long",
        message: `${field} is longer than ${limits.maxFieldLength} characters.`,
      });
  }
}

/**
 * A lead's customer and vehicle (lead-details.ts), into `properties`: the vehicle normalized,
 * the customer as its marker, its contact's hashes as `emailSha256`/`phoneSha256` (a hash
 * the body sent as well must agree). Returns the cleartext customer.
 */
function leadDetails(
  body: Record<string, unknown>,
  properties: Record<string, unknown>,
  country: string,
  problems: ErrorDetail[],
): Customer | undefined {
  if (body.vehicle !== undefined && body.vehicle !== null) {
    const vehicle = parseVehicle(body.vehicle, problems);
    if (vehicle) properties.vehicle = vehicle;
  }
  if (body.customer === undefined || body.customer === null) return undefined;
  const customer = parseCustomer(body.customer, country, problems);
  if (!customer) return undefined;
  const hashes = contactHashes(customer);
  for (const field of ["emailSha256", "phoneSha256"] as const) {
    const sent = body[field];
    const made = hashes[field];
    if (made === undefined) continue;
    if (typeof sent === "string" && sent !== "" && sent.toLowerCase() !== made)
      problems.push({
        path: pointer(field),
        code: "conflict",
        message: `${field} is not the hash of the customer's ${field === "emailSha256" ? "email" : "phone"}; send one or the other.`,
      });
    properties[field] = made;
  }
  properties.customer = customerMarker(customer);
  return customer;
}

/**
 * Validates and normalizes one event body (already parsed, known to be a plain object).
 * `unsafeIntegers`: its text wrote an integer beyond ±2^53 (then integral numbers beyond it
 * are refused, the parser having rounded them); false for a text that wrote none.
 */
export function normalizeEvent(
  body: Record<string, unknown>,
  limits: Limits,
  unsafeIntegers = true,
  country = "US",
): Normalized {
  const problems: ErrorDetail[] = [];
  const warnings: Warning[] = [];

  const action = requiredString(body, "action", "/action", limits, problems, warnings);
  const object = requiredString(body, "object", "/object", limits, problems, warnings);
  const vendor = requiredString(body, "vendor", "/vendor", limits, problems, warnings);
  const product = requiredString(body, "product", "/product", limits, problems, warnings);
  const instance = instanceId(body, limits, problems, warnings);

  let label: string | undefined;
  if (body.label !== undefined && body.label !== null) {
    if (typeof body.label !== "string")
      problems.push({
        path: "/label",
        code: "invalid_type",
        message: `label must be a string, got ${typeName(body.label)}.`,
      });
    else if (body.label.length > limits.maxLabelLength)
      problems.push({
        path: "/label",
        code: "too_long",
        message: `label is longer than ${limits.maxLabelLength} characters.`,
      });
    else if (!body.label.isWellFormed())
      problems.push({ path: "/label", code: "lone_surrogate", message: LONE_SURROGATE });
    else label = body.label;
  } else if (body.label === null)
    warnings.push({
      path: "/label",
      code: "null_ignored",
      message: "label was null and is treated as absent.",
    });

  let score: number | undefined;
  if (body.score !== undefined && body.score !== null) {
    if (typeof body.score !== "number")
      problems.push({
        path: "/score",
        code: "invalid_type",
        message: `score must be a number, got ${typeName(body.score)}.`,
      });
    else if (!Number.isFinite(body.score))
      problems.push({
        path: "/score",
        code: "not_finite",
        message: "score must be a finite number.",
      });
    else if (unsafeIntegers && Number.isInteger(body.score) && !Number.isSafeInteger(body.score))
      problems.push({
        path: "/score",
        code: "unsafe_integer",
        message: "Integer beyond ±2^53 would lose precision; send it as a string.",
      });
    else score = body.score;
  } else if (body.score === null)
    warnings.push({
      path: "/score",
      code: "null_ignored",
      message: "score was null and is treated as absent.",
    });

  let clientEventId: string | undefined;
  if (body.eventId !== undefined && body.eventId !== null) {
    if (typeof body.eventId !== "string" || !isUuid(body.eventId))
      problems.push({
        path: "/eventId",
        code: "invalid_value",
        message: "eventId, when sent, must be a UUID (the client's own ID for retries).",
      });
    else clientEventId = body.eventId.toLowerCase();
  }
  checkIdentifiers(body, limits, problems, warnings);
  const timestamp = parseClientTime(body.timestamp, "/timestamp", problems);
  const sentAt = parseClientTime(body.sentAt, "/sentAt", problems);

  // A null-prototype object: a "__proto__" key becomes an ordinary property, never a prototype.
  const properties: Record<string, unknown> = Object.create(null);
  let count = 0;
  for (const key of Object.keys(body)) {
    if (KNOWN.has(key)) continue;
    if (++count > limits.maxProperties) {
      problems.push({
        path: "",
        code: "too_many_properties",
        message: `More than ${limits.maxProperties} properties besides the known fields.`,
      });
      break;
    }
    const value = body[key];
    if (
      key.length > limits.maxKeyLength ||
      !key.isWellFormed() ||
      !withinLimits(value, 1, limits, unsafeIntegers)
    ) {
      const path = pointer(key);
      if (key.length > limits.maxKeyLength)
        problems.push({
          path,
          code: "key_too_long",
          message: `Property name longer than ${limits.maxKeyLength} characters.`,
        });
      if (!key.isWellFormed())
        problems.push({ path, code: "lone_surrogate", message: LONE_SURROGATE });
      checkValue(value, path, 1, limits, unsafeIntegers, problems);
    }
    properties[key] = value;
  }
  const customer = leadDetails(body, properties, country, problems);
  const consent = parseConsent(body.consent, problems);

  if (problems.length > 0 || !action || !object || !vendor || !product || !instance)
    return { fields: null, problems, warnings };
  const classified = classifyAction(action);
  if (classified.actionType === "custom")
    warnings.push({
      path: "/action",
      code: "custom_action",
      message: `"${action}" is not a standard action; it is stored as a custom action.`,
    });
  const fields: BodyFields = {
    action: classified.action,
    actionType: classified.actionType,
    object,
    vendor,
    product,
    instanceId: instance,
    properties,
  };
  if (label !== undefined) fields.label = label;
  if (score !== undefined) fields.score = score;
  if (clientEventId !== undefined) fields.clientEventId = clientEventId;
  if (typeof timestamp === "number") fields.timestamp = timestamp;
  if (typeof sentAt === "number") fields.sentAt = sentAt;
  if (customer !== undefined) fields.customer = customer;
  if (consent !== undefined) fields.consent = consent;
  return { fields, problems, warnings };
}
