/** Deleting the oldest keys of a database in one transaction: what each expiry of a keyed-by-time database does. */
import type { Database, Key } from "lmdb";

/** Deletes up to `limit` keys below `end`, oldest first, in one transaction; how many. */
export async function deleteKeysBelow<K extends Key>(
  db: Database<unknown, K>,
  end: K,
  limit: number,
): Promise<number> {
  let n = 0;
  await db.transaction(() => {
    for (const key of db.getKeys({ end, limit })) {
      db.removeSync(key);
      n++;
    }
  });
  return n;
}
