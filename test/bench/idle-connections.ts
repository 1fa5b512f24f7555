/**
 * The long form of the abusive-clients test: hold `count` idle TCP connections (and 100 that
 * trickle headers, slowloris-style) open against the binary while wrk measures everyone else.
 */
import { connect, type Socket } from "node:net";
import {
  startTarget,
  stopTarget,
  trackdCommand,
  wrk,
  type Target,
  type WrkResult,
} from "./targets.ts";

export async function underIdleConnections(
  binary: string,
  dataDir: string,
  count: number,
  seconds: number,
): Promise<{ opened: number; result: WrkResult }> {
  const t: Target = {
    name: "idle",
    cmd: trackdCommand(binary, dataDir, "--idle-timeout-seconds", "255"),
    env: { TRACKD_ADMIN_TOKEN: "bench" },
    results: [],
  };
  await startTarget(t);
  const sockets: Socket[] = [];
  const open = () =>
    new Promise<Socket | null>((resolve) => {
      const s = connect(t.port!, "127.0.0.1", () => resolve(s));
      s.on("error", () => resolve(null));
    });
  try {
    for (let i = 0; i < count; i += 500)
      for (const s of await Promise.all(Array.from({ length: Math.min(500, count - i) }, open)))
        if (s) sockets.push(s);
    const slow = (await Promise.all(Array.from({ length: 100 }, open))).filter(
      (s): s is Socket => s !== null,
    );
    for (const s of slow) s.write("POST /collect/1/1/event HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const drip = setInterval(() => slow.forEach((s) => s.writable && s.write("a")), 1000);
    const result = wrk(t, seconds, 64, "post-event.lua");
    clearInterval(drip);
    sockets.push(...slow);
    return { opened: sockets.length - slow.length, result };
  } finally {
    for (const s of sockets) s.destroy();
    await stopTarget(t);
  }
}
