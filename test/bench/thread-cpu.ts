/**
 * Where a request's CPU time goes, thread by thread: /proc/<pid>/task/<tid>/stat before and
 * after a wrk run, user and system time per request for every thread that used more than 1%
 * of it. trackd names its threads (trackd-writer, trackd-delivery, trackd-http-N); the main
 * thread is "bun" (or "trackd", the binary); the rest are the runtime's (JIT, GC, pools).
 */
import { readdirSync, readFileSync } from "node:fs";
import { type Target, type WrkResult, wrk } from "./targets.ts";

/** Clock ticks per second of /proc's stat fields (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface Ticks {
  name: string;
  user: number;
  sys: number;
}

function threadTicks(pid: number): Map<string, Ticks> {
  const out = new Map<string, Ticks>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // Fields after the name (which may hold spaces) are counted from its closing ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      out.set(tid, { name, user: Number(fields[11]), sys: Number(fields[12]) });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

export interface ThreadCpu {
  name: string;
  userUs: number;
  sysUs: number;
}

/** Runs wrk once against `t`, and returns each busy thread's CPU time per request, busiest first. */
export function threadCpu(
  t: Target,
  secs: number,
  connections: number,
): { result: WrkResult; threads: ThreadCpu[] } {
  const pid = t.proc!.pid;
  const before = threadTicks(pid);
  const result = wrk(t, secs, connections, "post-event.lua");
  const after = threadTicks(pid);
  const requests = result.rps * secs;
  const us = (ticks: number) => ((ticks / TICKS_PER_SECOND) * 1e6) / requests;
  const threads: ThreadCpu[] = [];
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { user: 0, sys: 0 };
    const cpu = { name: a.name, userUs: us(a.user - b.user), sysUs: us(a.sys - b.sys) };
    threads.push(cpu);
  }
  const total = threads.reduce((sum, c) => sum + c.userUs + c.sysUs, 0);
  return {
    result,
    threads: threads
      .filter((c) => c.userUs + c.sysUs > total / 100)
      .sort((x, y) => y.userUs + y.sysUs - (x.userUs + x.sysUs)),
  };
}
