import { describe, expect, test } from "bun:test";
import { MIN_EVENTS_PER_SECOND, Pacer } from "../../server/delivery/pacer.ts";

describe("the catch-up pacer", () => {
  test("lets a catching-up sink go at full speed while nothing arrives", () => {
    expect(new Pacer(() => 0).delayAfter(500)).toBe(0);
  });

  test("holds it to 1.5 times the arrival rate over the last second, so the backlog still shrinks", () => {
    let now = 10_000;
    const pacer = new Pacer(() => now);
    for (let i = 0; i < 100; i++) pacer.arrived(100); // 10,000 events within the second
    expect(pacer.arrivalRate()).toBe(10_000);
    expect(pacer.delayAfter(500)).toBeCloseTo(500 / 15, 6); // 500 events at 15,000/s
    now += 1001; // the arrivals leave the window
    expect(pacer.delayAfter(500)).toBe(0);
  });

  test("never below the floor while events trickle in", () => {
    const pacer = new Pacer(() => 0);
    pacer.arrived(10);
    expect(pacer.delayAfter(MIN_EVENTS_PER_SECOND)).toBe(1000);
  });
});
