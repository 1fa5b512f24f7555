/**
 * Nesting depth and width, on the single and the batch route: whatever the shape, the answer
 * is below 500, and a batch is either refused whole (nothing stored) or gets a
 * result per event. Plus the one-pass depth scan itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { scanJson } from "../../server/http/json-scan.ts";
import { deepestParsed } from "../../server/http/read-body.ts";
import { BASE, createTestApp, errorOf, validEvent, type TestApp } from "../helpers/test-app.ts";

const MAX_DEPTH = 16; // limits.maxDepth's default
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A value nested `depth` containers deep (arrays and objects by `kinds`), `width` wide at each level. */
function nested(depth: number, width: number, kinds: boolean[]): unknown {
  let v: unknown = "leaf";
  for (let d = 0; d < depth; d++)
    v = kinds[d % kinds.length]
      ? Array.from({ length: width }, () => v)
      : Object.fromEntries(Array.from({ length: width }, (_, i) => [`k${i}`, v]));
  return v;
}
const text = (depth: number, kinds: boolean[]) => {
  let s = '"leaf"';
  for (let d = 0; d < depth; d++) s = kinds[d % kinds.length] ? `[${s}]` : `{"k":${s}}`;
  return s;
};
const batch = (body: string) =>
  t.app.handle(
    new Request(`${BASE}/collect/1/1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );

describe("nesting", () => {
  test("the depth scan finds the first top-level element too deep, ignoring brackets in strings", () => {
    const tooDeepAt = (text: string, max: number) => scanJson(text, max).tooDeepAt;
    expect(tooDeepAt('[1,{"a":[[2]]},3]', 3)).toBe(1);
    expect(tooDeepAt('[1,{"a":"[[[[[[["},3]', 2)).toBe(-1);
    expect(tooDeepAt('{"a":"\\"[[[[","b":[]}', 2)).toBe(-1);
    expect(tooDeepAt("[".repeat(100000), 300)).toBe(0);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 60 }),
        (depth, kinds, max) => {
          expect(tooDeepAt(text(depth, kinds), max) >= 0).toBe(depth > max);
        },
      ),
    );
  });

  test("any depth and width on the single route: stored within the limit, 400 too_deep beyond it, never 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3000 })),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
        async (depth, width, kinds) => {
          const value = depth <= 6 ? nested(depth, width, kinds) : null; // wide values stay small; deeper ones are one wide
          const body =
            value !== null
              ? JSON.stringify(validEvent({ v: value }))
              : `{"action":"a","object":"o","vendor":"v","product":"p","instance_id":"i","v":${text(depth, kinds)}}`;
          const res = await t.collect(body);
          expect(res.status).toBeLessThan(500);
          if (depth < MAX_DEPTH) expect(res.status).toBe(204);
          else {
            expect(res.status).toBe(400);
            expect((await errorOf(res)).details.some((d) => d.code === "too_deep")).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test("any depth on the batch route: refused whole before anything is stored, or a result per event", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 60000 })),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        async (depth, kinds, at) => {
          const before = t.store.events.count();
          const items = [0, 1, 2, 3].map((i) =>
            i === at
              ? `{"action":"a","object":"o","vendor":"v","product":"p","instance_id":"deep","v":${text(depth, kinds)}}`
              : JSON.stringify(validEvent({ instance_id: `b-${i}` })),
          );
          const res = await batch(`[${items.join(",")}]`);
          expect(res.status).toBeLessThan(500);
          if (depth + 2 > deepestParsed(MAX_DEPTH) + 1) {
            expect(res.status).toBe(400);
            expect((await errorOf(res)).details[0]).toMatchObject({
              path: `/${at}`,
              code: "too_deep",
            });
            expect(t.store.events.count()).toBe(before);
          } else {
            const body = (await res.json()) as { accepted: number; rejected: number };
            expect(body.accepted + body.rejected).toBe(4);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test("the reported repro: 50,001 nested arrays to the batch route is a 400, nothing stored", async () => {
    const before = t.store.events.count();
    const res = await batch(
      `[${JSON.stringify(validEvent())},${"[".repeat(50001)}${"]".repeat(50001)}]`,
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details[0]).toMatchObject({ path: "/1", code: "too_deep" });
    expect(t.store.events.count()).toBe(before);
  });
});
