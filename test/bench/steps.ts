/**
 * What each step of a collect request costs on the request thread, in process: the body of
 * test/bench/post-event.lua through each function the collect route calls, timed over many
 * iterations after a warm-up, medians of `rounds`. The network, Bun's HTTP parser and the
 * writer thread are not in these figures (the HTTP section measures the whole); they say
 * where trackd's own JavaScript spends its part.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { ConfigSchema, type Config } from "../../server/config/schema.ts";
import type { TrackedEvent } from "../../server/events/event.model.ts";
import { uuidv7 } from "../../server/events/ids.ts";
import { linksOf, shopperKeyOf } from "../../server/events/links.ts";
import { normalizeEvent } from "../../server/events/normalize.ts";
import { scanJson } from "../../server/http/json-scan.ts";
import { readEventBody } from "../../server/http/read-body.ts";
import { Metrics } from "../../server/telemetry/metrics.ts";
import { median } from "./targets.ts";

/** The realistic event the HTTP bench posts. */
export const BENCH_BODY = /wrk\.body = \[\[(.*)\]\]/.exec(
  readFileSync(join(import.meta.dir, "post-event.lua"), "utf8"),
)![1]!;

export interface StepCost {
  step: string;
  /** Nanoseconds per call, median of the rounds. */
  ns: number;
}

/** Nanoseconds per call of `fn` (sync or async), over `n` calls. */
async function time(fn: () => unknown, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return ((performance.now() - started) * 1e6) / n;
}

export async function stepCosts(rounds = 3, n = 100_000): Promise<StepCost[]> {
  const config = Value.Default(ConfigSchema, {}) as Config;
  const limits = config.limits;
  const bytes = new TextEncoder().encode(BENCH_BODY);
  const body = JSON.parse(BENCH_BODY) as Record<string, unknown>;
  const normalized = normalizeEvent(body, limits);
  const event = {
    eventId: uuidv7(),
    receivedAt: new Date().toISOString(),
    occurredAt: new Date().toISOString(),
    accountId: "1001",
    trackerId: "1",
    ...normalized.fields,
    context: { ip: "127.0.0.1", userAgent: "wrk", origin: null, referer: null, source: "server" },
    test: false,
    registry: { account: false, tracker: false, vendor: false },
  } as unknown as TrackedEvent;
  const metrics = new Metrics();
  const routeCounter = metrics.requests.counter({ route: "event" });
  const steps: [string, () => unknown][] = [
    [
      "read the body (Request.bytes, content type, UTF-8, scan, parse)",
      () =>
        readEventBody(
          new Request("http://localhost/collect/1001/1/event", {
            method: "POST",
            headers: { "content-type": "application/json", "content-length": String(bytes.length) },
            body: bytes,
          }),
          limits.maxBodyBytes,
          limits.maxDepth,
        ),
    ],
    [
      "  of which: a Request with the body (the test's own cost)",
      () =>
        new Request("http://localhost/collect/1001/1/event", {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(bytes.length) },
          body: bytes,
        }),
    ],
    ["  of which: decode UTF-8", () => new TextDecoder("utf-8", { fatal: true }).decode(bytes)],
    [
      "  of which: scan (depth, large integers, repeated keys)",
      () => scanJson(BENCH_BODY, limits.maxDepth),
    ],
    ["  of which: JSON.parse", () => JSON.parse(BENCH_BODY)],
    ["validate and normalise", () => normalizeEvent(body, limits)],
    ["event ID (UUIDv7)", () => uuidv7()],
    ["serialise the stored JSON", () => JSON.stringify(event)],
    ["link index entries and shopper key", () => [linksOf(event), shopperKeyOf(event)]],
    [
      "metrics: a labelled counter, labels formatted per call",
      () => metrics.requests.inc({ route: "event" }),
    ],
    ["metrics: the same counter's handle (what the collect route uses)", () => routeCounter.inc()],
    [
      "the 204 response with its header",
      () => new Response(null, { status: 204, headers: { "x-event-id": event.eventId } }),
    ],
  ];
  const costs = new Map<string, number[]>();
  for (const [, fn] of steps) await time(fn, n / 10); // warm-up: let the JIT compile each
  for (let r = 0; r < rounds; r++)
    for (const [step, fn] of steps) {
      const ns = await time(fn, n);
      costs.set(step, [...(costs.get(step) ?? []), ns]);
    }
  return steps.map(([step]) => ({ step, ns: median(costs.get(step)!) }));
}

if (import.meta.main)
  for (const { step, ns } of await stepCosts())
    console.log(`${(ns / 1000).toFixed(2).padStart(7)} µs  ${step}`);
