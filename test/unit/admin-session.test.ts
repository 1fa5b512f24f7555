/**
 * Admin sessions have one spelling, a logout holds for every spelling of the cookie, and the
 * limiter of wrong tokens cannot be flushed by guesses from many addresses.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  createSession,
  LoginLimiter,
  limiterKey,
  parseSession,
  SESSION_COOKIE,
} from "../../server/auth/session.ts";
import { ADMIN_TOKEN, createTestApp } from "../helpers/test-app.ts";

const NOW = Date.UTC(2026, 11, 4, 12);

/** Spellings that Number() reads as the same expiry, and other near-misses of a session value. */
function variants(session: string): string[] {
  const [expires, mac] = session.split(".") as [string, string];
  const n = Number(expires);
  return [
    `0${session}`,
    `00${session}`,
    `+${session}`,
    `0x${n.toString(16)}.${mac}`,
    `${expires}e0.${mac}`,
    `${expires}.0.${mac}`,
    `${n / 1000}e3.${mac}`,
    ` ${session}`,
    `${session} `,
    `${expires}.${mac}=`,
    `${expires}.${mac}.`,
    `${expires}..${mac}`,
    `"${session}"`,
    `${expires}%2E${mac}`,
    `${expires}.${mac.toUpperCase()}`,
  ];
}

describe("session values", () => {
  test("a made session parses to its own text and expiry", () => {
    const session = createSession(ADMIN_TOKEN, NOW);
    expect(parseSession(session, ADMIN_TOKEN, NOW)).toEqual({
      id: session,
      expires: Number(session.split(".")[0]),
    });
    expect(parseSession(session, "another-token", NOW)).toBeNull();
    expect(parseSession(session, ADMIN_TOKEN, NOW + 13 * 3600_000)).toBeNull();
  });

  test("no other spelling of a session is a session", () => {
    const session = createSession(ADMIN_TOKEN, NOW);
    for (const v of variants(session))
      expect([v, parseSession(v, ADMIN_TOKEN, NOW)]).toEqual([v, null]);
  });

  test("any string that parses is the session's canonical text", () => {
    const session = createSession(ADMIN_TOKEN, NOW);
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 4 }), (prefix, suffix) => {
        const parsed = parseSession(`${prefix}${session}${suffix}`, ADMIN_TOKEN, NOW);
        expect(parsed === null || parsed.id === session).toBe(true);
        if (parsed) expect(`${prefix}${session}${suffix}`).toBe(session);
      }),
      { numRuns: 2000 },
    );
  });

  test("after logout, the cookie in every spelling is refused", async () => {
    const app = await createTestApp();
    try {
      const login = await app.app.handle(
        new Request("http://localhost/admin/api/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: ADMIN_TOKEN }),
        }),
      );
      const session = /trackd_session=([^;]+)/.exec(login.headers.get("set-cookie")!)![1]!;
      const ask = (value: string) =>
        app.app.handle(
          new Request("http://localhost/admin/api/events", {
            headers: { cookie: `${SESSION_COOKIE}=${value}` },
          }),
        );
      expect((await ask(session)).status).toBe(200);
      const logout = await app.app.handle(
        new Request("http://localhost/admin/api/logout", {
          method: "POST",
          headers: { cookie: `${SESSION_COOKIE}=${session}` },
        }),
      );
      expect(logout.status).toBe(204);
      for (const value of [session, ...variants(session)])
        expect([value, (await ask(value)).status]).toEqual([value, 401]);
    } finally {
      await app.close();
    }
  });
});

describe("the limiter of wrong admin tokens", () => {
  test("a blocked address stays blocked while 10,001 other addresses each guess once", () => {
    const limiter = new LoginLimiter();
    for (let i = 0; i < 5; i++) limiter.fail("203.0.113.9", NOW);
    expect(limiter.blockedFor("203.0.113.9", NOW)).toBeGreaterThan(0);
    for (let i = 0; i < 10_001; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      limiter.blockedFor(address, NOW + 1);
      limiter.fail(address, NOW + 1);
    }
    expect(limiter.blockedFor("203.0.113.9", NOW + 2)).toBeGreaterThan(0);
    expect(limiter.size).toBeLessThanOrEqual(10_001);
  });

  test("past the table's size, new addresses share one entry: five guesses in all, not each", () => {
    const limiter = new LoginLimiter(5, 60_000, 100);
    for (let i = 0; i < 100; i++) limiter.fail(`10.0.0.${i}`, NOW);
    let allowed = 0;
    for (let i = 0; i < 50; i++) {
      const address = `10.1.0.${i}`;
      if (limiter.blockedFor(address, NOW) === 0) {
        allowed++;
        limiter.fail(address, NOW);
      }
    }
    expect(allowed).toBe(5);
    // Once the window has passed, expired entries make room again.
    expect(limiter.blockedFor("10.2.0.1", NOW + 61_000)).toBe(0);
  });

  test("IPv6 addresses are counted by their /64", () => {
    expect(limiterKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limiterKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(limiterKey("2001:DB8:0001:0002::9")).toBe("2001:db8:1:2::/64");
    expect(limiterKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limiterKey("::1")).toBe("0:0:0:0::/64");
    expect(limiterKey("::ffff:10.0.0.1")).toBe("::ffff:10.0.0.1");
    expect(limiterKey("192.0.2.1")).toBe("192.0.2.1");
    const limiter = new LoginLimiter();
    for (let i = 0; i < 5; i++) limiter.fail(`2001:db8:1:2::${i + 1}`, NOW);
    expect(limiter.blockedFor("2001:db8:1:2:ffff::7", NOW)).toBeGreaterThan(0);
    expect(limiter.blockedFor("2001:db8:1:3::1", NOW)).toBe(0);
  });
});
