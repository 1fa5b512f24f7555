import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { keyTail, tupleKey, tupleRange } from "../../server/store/tuple-key.ts";

const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const part = fc.oneof(
  fc.string({ unit }),
  fc.string({ unit: "binary" }),
  fc.constantFrom("", "\u0000", "a\u0000", "a", "\uffff", "\ud800", "\udc00"),
);
const tuple = fc.array(part, { minLength: 1, maxLength: 4 });

const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const inRange = (key: Uint8Array, r: { start: Uint8Array; end: Uint8Array }) =>
  compare(key, r.start) >= 0 && compare(key, r.end) < 0;

describe("tuple keys", () => {
  test("two tuples have the same key only if they are the same tuple", () => {
    fc.assert(
      fc.property(
        tuple,
        tuple,
        (a, b) =>
          (compare(tupleKey(a), tupleKey(b)) === 0) === (JSON.stringify(a) === JSON.stringify(b)),
      ),
      { numRuns: 2000 },
    );
  });

  test("a prefix's range holds exactly the keys whose first parts are that prefix", () => {
    fc.assert(
      fc.property(tuple, tuple, fc.boolean(), fc.uuid(), (prefix, extra, extend, tail) => {
        const other = extend ? [...prefix, ...extra] : extra;
        const key = tupleKey([...other, "rest"], tail);
        const starts = other.length >= prefix.length && prefix.every((p, i) => p === other[i]);
        return inRange(key, tupleRange(prefix)) === starts;
      }),
      { numRuns: 2000 },
    );
  });

  test("keys sort part by part: a shorter first part sorts first when it is a prefix of the other", () => {
    expect(compare(tupleKey(["a"], "z"), tupleKey(["a\u0000"], "0"))).toBeLessThan(0);
    expect(compare(tupleKey(["a"], "z"), tupleKey(["ab"], "0"))).toBeLessThan(0);
    expect(compare(tupleKey(["1", "b"]), tupleKey(["10", "a"]))).toBeLessThan(0);
  });

  test("gives back the event ID it ends with", () => {
    const id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    expect(
      keyTail(
        tupleKey(["5f0c6f5e-8d1c-4a7a-9e63-1b2f0a7d9c11", "instance", "Šárka 😀\u0000"], id),
        36,
      ),
    ).toBe(id);
  });
});
