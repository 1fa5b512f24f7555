import { describe, expect, test } from "bun:test";
import { suggestPairs, swappedAt } from "../../server/registry/suggest.ts";

describe("suggestions for an unregistered pair", () => {
  test("a transposed account ranks ahead of the same tracker under another account", () => {
    const registered = [
      { accountId: "2002", trackerId: "1" }, // same tracker, another account: distance 2 from 1010
      { accountId: "1001", trackerId: "1" }, // 1010 with two digits swapped
      { accountId: "1011", trackerId: "1" }, // same tracker, one digit off
    ];
    const [first, ...rest] = suggestPairs("1010", "1", registered);
    expect(first).toEqual({
      accountId: "1001",
      trackerId: "1",
      reason: "digits swapped: account 1010 is probably 1001",
    });
    expect(rest.map((s) => s.accountId)).toEqual(["1011", "2002"]);
  });

  test("a transposed tracker under the right account, with UUID-shaped IDs", () => {
    const aid = "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b";
    const s = suggestPairs(aid, "web-21", [
      { accountId: aid, trackerId: "web-12" },
      { accountId: aid, trackerId: "web-2" },
    ]);
    expect(s[0]).toMatchObject({
      trackerId: "web-12",
      reason: expect.stringMatching(/^digits swapped/),
    });
  });

  test("swappedAt finds one neighbouring swap and nothing else", () => {
    expect(swappedAt("1010", "1001")).toBe(2);
    expect(swappedAt("ab", "ba")).toBe(0);
    expect(swappedAt("1001", "1001")).toBe(-1);
    expect(swappedAt("1234", "2143")).toBe(-1); // two swaps
    expect(swappedAt("1203", "1302")).toBe(-1); // not neighbours
    expect(swappedAt("12", "123")).toBe(-1);
  });
});
