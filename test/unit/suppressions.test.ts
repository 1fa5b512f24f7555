/**
 * The suppression list (store/suppressions.ts): keyed by account or every account, hashes in
 * any case, and a failed erasure's suppressions taken back without touching earlier ones.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { open } from "lmdb";
import { EVERY_ACCOUNT, Suppressions } from "../../server/store/suppressions.ts";
import { tempDir } from "../helpers/test-app.ts";

const dir = tempDir();
const root = open({ path: join(dir, "s.mdb") });
afterAll(() => root.close());
const record = { at: "2026-12-05T00:00:00Z", operationId: "op" };

test("suppresses per account or for every account, hashes in any case, and takes back a failed batch's", async () => {
  const s = new Suppressions(root, join(dir, "suppression.key"));
  const hash = "AB".repeat(32);
  await root.transaction(() => {
    s.add(
      [
        { accountId: "1001", kind: "email", value: hash },
        { accountId: EVERY_ACCOUNT, kind: "user", value: "u-42" },
      ],
      record,
    );
  });
  expect(s.has("1001", "email", hash.toLowerCase())).toBe(true);
  expect(s.has("2002", "email", hash)).toBe(false);
  expect(s.has("2002", "user", "u-42")).toBe(true);
  expect(s.has("1001", "user", "U-42")).toBe(false); // IDs are exact; only hashes ignore case

  // A batch that fails (the transaction throws, so LMDB stores none of it): its new
  // suppressions go, the earlier one stays.
  let added: string[] = [];
  expect(() =>
    root.transactionSync(() => {
      added = s.add(
        [
          { accountId: "1001", kind: "email", value: hash },
          { accountId: "1001", kind: "device", value: "d-1" },
        ],
        record,
      );
      throw new Error("the commit fails");
    }),
  ).toThrow("the commit fails");
  expect(added).toHaveLength(1);
  s.withdraw(added);
  expect(s.has("1001", "device", "d-1")).toBe(false);
  expect(s.has("1001", "email", hash)).toBe(true);
  // What was committed is read back by a new instance, under the same key file.
  const again = new Suppressions(root, join(dir, "suppression.key"));
  expect(again.has("1001", "email", hash)).toBe(true);
  expect(again.count()).toBe(2);
});
