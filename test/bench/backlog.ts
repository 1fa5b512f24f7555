/** Builds a data directory holding `n` stored events (relaxed writes, in-process), for drain and memory runs. */
import { openStore } from "../../server/store/open-store.ts";
import { makeEvent } from "../helpers/events.ts";

export async function buildBacklog(dataDir: string, n: number): Promise<void> {
  const store = openStore({ dataDir, durability: "relaxed", rejectLogSize: 10 });
  let pending: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    pending = store.events.append(
      makeEvent({
        accountId: String(1 + (i % 7)),
        trackerId: String(1 + (i % 3)),
        instanceId: `backlog-${i}`,
      }),
    );
    if (i % 2000 === 1999) await pending;
  }
  await pending;
  await store.close();
}
