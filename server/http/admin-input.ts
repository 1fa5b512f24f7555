/**
 * What an admin route reads from a request, read strictly against the route's own TypeBox
 * schema, inside the handler (so always after the gate): the query string and the JSON body.
 *
 * Elysia's own query validation is not used for the admin API: it coerces with `Number()`
 * (so `1e3`, `0x10`, `+5` pass as numbers), keeps the last of a repeated parameter, and in a
 * minified bundle its bounds are not enforced at all (its generated code recognizes TypeBox's
 * `TransformDecodeError` by class name, which minification renames; the error is swallowed and
 * the raw string passes). Here an integer is decimal digits, a parameter appears once, an
 * unknown one is refused, and every bound declared in the schema is checked, each failure
 * naming its parameter.
 */
import type { Static, TObject, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { errorResponse, type ErrorDetail } from "../errors.ts";
import { scopeProblem } from "./admin-access.ts";

/** The query schema of each handler made by withQuery: how the schema-driven test finds them from the router's routes. */
const querySchemas = new WeakMap<object, TObject>();

/** The query schema a route's handler reads, if it reads one (tests enumerate the router's routes with it). */
export function querySchemaOf(handler: unknown): TObject | undefined {
  return typeof handler === "function" ? querySchemas.get(handler) : undefined;
}

/** The digits of a non-negative decimal integer: no sign, exponent, hex, or leading zero. */
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

const detail = (path: string, message: string, code: ErrorDetail["code"] = "invalid_value") => ({
  path,
  code,
  message,
});

/** The range an integer schema allows, as a sentence. */
function range(schema: { minimum?: number; maximum?: number }): string {
  const { minimum: lo, maximum: hi } = schema;
  if (lo !== undefined && hi !== undefined) return `a whole number from ${lo} to ${hi}`;
  if (lo !== undefined) return `a whole number of at least ${lo}`;
  return hi !== undefined ? `a whole number up to ${hi}` : "a whole number";
}

/** One parameter's value against its property schema: the value to use, or what is wrong. */
function readValue(name: string, raw: string, schema: TSchema): { value: unknown } | ErrorDetail {
  const length = raw.length;
  if (schema.type === "integer") {
    const n = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
    const ok =
      Number.isSafeInteger(n) &&
      (schema.minimum === undefined || n >= schema.minimum) &&
      (schema.maximum === undefined || n <= schema.maximum);
    return ok
      ? { value: n }
      : detail(name, `${name} must be ${range(schema as { minimum?: number })}; got ${show(raw)}.`);
  }
  if (Value.Check(schema, raw)) return { value: raw };
  const first = Value.Errors(schema, raw).First();
  const options = (schema as { anyOf?: TSchema[] }).anyOf;
  const allowed = options?.every((s) => "const" in s)
    ? `one of ${options.map((s) => JSON.stringify(s.const)).join(", ")}`
    : null;
  const message = allowed
    ? `${name} must be ${allowed}; got ${show(raw)}.`
    : `${name}: ${first?.message ?? "invalid"}.`;
  return detail(
    name,
    message,
    typeof schema.maxLength === "number" && length > schema.maxLength
      ? "too_long"
      : "invalid_value",
  );
}

const show = (raw: string) => JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);

/**
 * The query of `url` read against `schema`: every parameter once, none unknown, each within
 * its bounds. The query string is what follows the URL's first `?`, as the router reads it.
 */
export function readQuery<S extends TObject>(schema: S, url: string): Static<S> | Response {
  const at = url.indexOf("?");
  const params = new URLSearchParams(at < 0 ? "" : url.slice(at + 1));
  const out: Record<string, unknown> = {};
  const problems: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const [name, raw] of params) {
    const property = Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
    if (seen.has(name)) {
      if (!problems.some((p) => p.path === name))
        problems.push(detail(name, `${name} is given more than once; give it once.`, "repeated"));
      continue;
    }
    seen.add(name);
    if (!property) {
      const known = Object.keys(schema.properties);
      problems.push(
        detail(
          name,
          known.length > 0
            ? `${show(name)} is not a parameter of this route; it takes ${known.join(", ")}.`
            : `${show(name)} is not a parameter of this route; it takes none.`,
          "unknown_parameter",
        ),
      );
      continue;
    }
    const read = readValue(name, raw, property);
    if ("value" in read) out[name] = read.value;
    else problems.push(read);
  }
  for (const name of schema.required ?? [])
    if (!seen.has(name)) problems.push(detail(name, `${name} is required.`, "required"));
  return problems.length > 0 ? errorResponse("invalid_request", problems) : (out as Static<S>);
}

/** True for the property schemas readQuery reads: an integer, a string, or a union of string literals. */
function readable(schema: TSchema): boolean {
  const options = (schema as { anyOf?: TSchema[] }).anyOf;
  if (options) return options.every((s) => typeof s.const === "string");
  return schema.type === "integer" || (schema.type === "string" && schema.format === undefined);
}

/**
 * A handler that reads its query with readQuery first: its `query` is the schema's type, and a
 * request outside the schema gets 400 naming each parameter. On this same reading (and the
 * router's path parameters), a credential limited to accounts is held to them
 * (admin-access.ts): 404 for another account. The schema is recorded for tests.
 */
export function withQuery<S extends TObject, C extends { request: Request }>(
  schema: S,
  handler: (query: Static<S>, context: C) => Response | Promise<Response>,
): (context: C) => Response | Promise<Response> {
  for (const [name, property] of Object.entries(schema.properties))
    if (!readable(property))
      // Elysia's `t.Integer` is a union with a string of format "integer": use TypeBox's Type.
      throw new Error(`query parameter ${name}: use TypeBox's Integer, String or string literals`);
  const read = (context: C) => {
    const query = readQuery(schema, context.request.url);
    if (query instanceof Response) return query;
    // A credential limited to accounts: the account this reading names must be one of them.
    const params = (context as { params?: Record<string, string> }).params;
    switch (scopeProblem(context.request, query, params)) {
      case "missing":
        return errorResponse("invalid_request", [
          detail(
            "accountId",
            "This credential sees only some accounts: give accountId.",
            "required",
          ),
        ]);
      case "hidden":
        return errorResponse("not_found");
      default:
        return handler(query, context);
    }
  };
  querySchemas.set(read, schema);
  return read;
}

/**
 * The JSON body of an admin request against `schema`. The gate has already checked its length
 * (at most ADMIN_BODY_LIMIT, given up front) and its type, so reading it whole is bounded.
 */
export async function readJsonBody<S extends TSchema>(
  schema: S,
  request: Request,
): Promise<Static<S> | Response> {
  let body: unknown;
  try {
    const text = await request.text();
    body = text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    return errorResponse("invalid_json");
  }
  if (Value.Check(schema, body)) return body as Static<S>;
  const problems: ErrorDetail[] = [...Value.Errors(schema, body)].map((e) => {
    // A schema's own words for its pattern (config/explain.ts), not the regular expression.
    const words = (e.schema as { patternMessage?: string }).patternMessage;
    const message = words && e.schema.pattern !== undefined ? `Must be ${words}.` : e.message;
    return detail(e.path || "/", message, e.value === undefined ? "required" : "invalid_value");
  });
  return errorResponse("invalid_request", problems);
}
