import { describe, expect, test } from "bun:test";
import { createUuidv7, isUuid, parsePathId, uuidv7Time } from "../../server/events/ids.ts";

// A generator of its own: these tests move its clock far ahead, which must not leak into others.
const { next: uuidv7, seed } = createUuidv7();

describe("path IDs", () => {
  test("normalizes UUIDs to lowercase and keeps integers as sent", () => {
    expect(parsePathId("123E4567-E89B-12D3-A456-426614174000")).toBe(
      "123e4567-e89b-12d3-a456-426614174000",
    );
    expect(parsePathId("18")).toBe("18");
    expect(parsePathId("999999999999999999")).toBe("999999999999999999");
  });

  test("refuses zero, leading zeros, 19 digits, signs and the nil UUID", () => {
    for (const raw of [
      "0",
      "00",
      "012",
      "1000000000000000000",
      "-5",
      "+5",
      " 5",
      "5 ",
      "00000000-0000-0000-0000-000000000000",
      "",
    ])
      expect(parsePathId(raw)).toBeNull();
  });
});

describe("uuidv7", () => {
  test("is a version 7, variant 10 UUID carrying the time", () => {
    const id = uuidv7(4_000_000_000_123);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]!);
    expect(uuidv7Time(id)).toBe(4_000_000_000_123);
  });

  test("sorts strictly in creation order within one millisecond and across them", () => {
    const ids = Array.from({ length: 10000 }, (_, i) =>
      uuidv7(4_100_000_000_000 + Math.floor(i / 3000)),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  test("sorts after a seed from the store even if the clock is behind it", () => {
    seed(uuidv7(4_300_000_000_000));
    expect(uuidv7Time(uuidv7(1_000_000_000_000))).toBe(4_300_000_000_001);
  });

  test("stays ordered when the clock steps backwards", () => {
    const a = uuidv7(4_200_000_000_000);
    const b = uuidv7(4_199_999_999_000);
    expect(b > a).toBe(true);
  });
});
