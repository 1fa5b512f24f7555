/**
 * Every bound an admin route declares is enforced: the cases are generated from the query
 * schemas the router's routes carry (withQuery), so a new parameter or route is covered
 * without editing this file. Each parameter is sent below, at and above its bounds and in odd
 * forms (1e3, 0x10, +5, empty, repeated); outside them the answer is 400 naming it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TObject, TSchema } from "@sinclair/typebox";
import { querySchemaOf } from "../../server/http/admin-input.ts";
import { appRoutes, type AppRoute } from "../helpers/route-shapes.ts";
import { ADMIN_TOKEN, createTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
let routes: (AppRoute & { schema: TObject })[];
beforeAll(async () => {
  t = await createTestApp();
  routes = appRoutes(t.app)
    .filter((r) => r.pattern.startsWith("/admin/api") && r.method === "GET")
    .map((r) => ({
      ...r,
      schema: querySchemaOf(
        t.app.routes.find((x) => x.path === r.pattern && x.method === r.method)!.handler,
      )!,
    }));
});
afterAll(() => t.close());

/** Valid values for the parameters a route requires, so that only the one under test is wrong. */
const REQUIRED: Record<string, string> = {
  accountId: "6f1c1f0e-9a55-4d5e-8d43-1c2b3a4d5e6f",
  instanceId: "chat-2f9c2a0e-7b1d-4c51-9d3f-5a8e6b7c4d21",
};

interface Answer {
  status: number;
  details: { path: string; code: string }[];
}

async function get(route: AppRoute & { schema: TObject }, query: string): Promise<Answer> {
  const base = (route.schema.required ?? []).map((n: string) => `${n}=${REQUIRED[n]}`);
  const q = [...base.filter((b: string) => !query.startsWith(`${b.split("=")[0]}=`)), query]
    .filter(Boolean)
    .join("&");
  const res = await t.app.handle(
    new Request(`http://localhost${route.path}?${q}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
  );
  // The live stream never ends: its status is all there is to read.
  const streaming = res.status === 200 && route.pattern.endsWith("/stream");
  const text = streaming ? "" : await res.text();
  if (streaming) await res.body?.cancel();
  const details =
    res.status === 400
      ? (JSON.parse(text) as { error: { details: Answer["details"] } }).error.details
      : [];
  return { status: res.status, details };
}

/** Sent values a parameter of this schema must refuse, and ones it must take. */
function cases(schema: TSchema): { refused: string[]; taken: string[] } {
  if (schema.type === "integer") {
    const lo = schema.minimum as number;
    const hi = schema.maximum as number;
    return {
      refused: [
        String(lo - 1),
        String(hi + 1),
        "1e3",
        "0x10",
        "+5",
        "-1",
        "",
        " 5",
        "5.0",
        "05",
        "1".repeat(30),
      ],
      taken: [String(lo), String(hi)],
    };
  }
  if (schema.anyOf)
    return {
      refused: ["", "TRUE", "yes"],
      taken: (schema.anyOf as TSchema[]).map((s) => String(s.const)),
    };
  const max = schema.maxLength as number;
  // At the limit in Unicode (UUID-shaped and ASCII values are in REQUIRED and the routes' own tests).
  return { refused: ["x".repeat(max + 1), "é".repeat(max + 1)], taken: ["é".repeat(max)] };
}

describe("admin query bounds, generated from the routes' schemas", () => {
  test("every admin GET route declares its query schema (so the checks below reach it)", () => {
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) expect([r.pattern, r.schema !== undefined]).toEqual([r.pattern, true]);
  });

  test("refuses each parameter below, above and in odd forms with 400 naming it; takes it at its bounds", async () => {
    const failures: string[] = [];
    for (const route of routes)
      for (const [name, schema] of Object.entries(route.schema.properties)) {
        const { refused, taken } = cases(schema);
        for (const value of refused) {
          const a = await get(route, `${name}=${encodeURIComponent(value)}`);
          if (a.status !== 400 || !a.details.some((d) => d.path === name))
            failures.push(
              `${route.pattern} ${name}=${JSON.stringify(value)}: ${a.status} ${JSON.stringify(a.details)}`,
            );
        }
        for (const value of taken) {
          const a = await get(route, `${name}=${encodeURIComponent(value)}`);
          // The route may go on to find that the value names nothing (404), is no ID or no time
          // (invalid_id, invalid_time): those are not the schema's bounds.
          const bound = (code: string) =>
            ["too_long", "repeated", "unknown_parameter"].includes(code) ||
            (schema.type === "integer" && code === "invalid_value");
          if (a.details.some((d) => d.path === name && bound(d.code)))
            failures.push(
              `${route.pattern} ${name}=${value} was refused: ${JSON.stringify(a.details)}`,
            );
        }
        const twice = await get(route, `${name}=${taken[0] ?? "x"}&${name}=${taken[0] ?? "x"}`);
        if (!twice.details.some((d) => d.path === name && d.code === "repeated"))
          failures.push(
            `${route.pattern} ${name} twice: ${twice.status} ${JSON.stringify(twice.details)}`,
          );
      }
    expect(failures).toEqual([]);
  }, 60000);

  test("refuses a parameter the route does not take, naming it", async () => {
    for (const route of routes) {
      const a = await get(route, "limt=5");
      expect([route.pattern, a.status, a.details.at(-1)]).toEqual([
        route.pattern,
        400,
        { path: "limt", code: "unknown_parameter", message: expect.any(String) } as never,
      ]);
    }
  });

  test("refuses required parameters that are missing, naming each", async () => {
    for (const route of routes.filter((r) => (r.schema.required ?? []).length > 0)) {
      const res = await t.app.handle(
        new Request(`http://localhost${route.path}`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
      );
      const body = (await res.json()) as { error: { details: { path: string; code: string }[] } };
      expect(res.status).toBe(400);
      for (const name of route.schema.required!)
        expect(body.error.details).toContainEqual(
          expect.objectContaining({ path: name, code: "required" }),
        );
    }
  });

  test("answers 400 naming the date for leads from or to outside what a Date holds, never 500", async () => {
    for (const [name, value] of [
      ["to", "-271821-04-20T00:00:00.000Z"],
      ["to", "+275760-09-13T00:00:00.000Z"],
      ["from", "-000001-01-01T00:00:00Z"],
      ["from", "8640000000000001"],
      ["to", "99999999999999999999"],
      ["from", "yesterday"],
    ])
      for (const path of ["/leads", "/leads.csv", "/leads.ndjson"]) {
        const res = await t.admin(`${path}?accountId=1001&${name}=${encodeURIComponent(value!)}`);
        const body = (await res.json()) as { error: { details: { path: string; code: string }[] } };
        expect([path, value, res.status]).toEqual([path, value, 400]);
        expect(body.error.details[0]).toMatchObject({ path: name, code: "invalid_time" });
      }
  });
});
