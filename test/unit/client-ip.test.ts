import { describe, expect, test } from "bun:test";
import { clientIp, parseRange, trustedProxyMatcher } from "../../server/http/client-ip.ts";

describe("client IP", () => {
  const trusted = trustedProxyMatcher(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);

  test("ignores X-Forwarded-For from untrusted peers", () => {
    expect(clientIp("203.0.113.9", "1.2.3.4", trusted)).toBe("203.0.113.9");
    expect(clientIp("203.0.113.9", null, trusted)).toBe("203.0.113.9");
  });

  test("takes the nearest untrusted hop behind trusted proxies", () => {
    expect(clientIp("127.0.0.1", "1.2.3.4", trusted)).toBe("1.2.3.4");
    expect(clientIp("10.1.2.3", "6.6.6.6, 1.2.3.4, 10.9.9.9", trusted)).toBe("1.2.3.4");
    expect(clientIp("::ffff:10.1.2.3", "1.2.3.4", trusted)).toBe("1.2.3.4");
    expect(clientIp("fd12::1", "2001:db8::5", trusted)).toBe("2001:db8::5");
  });

  test("trusts nobody by default", () => {
    expect(clientIp("127.0.0.1", "1.2.3.4", trustedProxyMatcher([]))).toBe("127.0.0.1");
  });

  test("parses addresses and ranges, refusing junk", () => {
    expect(parseRange("192.168.0.0/16")).toMatchObject({ prefix: 16, width: 32 });
    expect(parseRange("::1")).toMatchObject({ prefix: 128, width: 128 });
    for (const bad of [
      "300.1.1.1",
      "1.2.3",
      "10.0.0.0/33",
      "::1/129",
      "zz::1",
      "1:2:3:4:5:6:7:8:9",
    ])
      expect(parseRange(bad)).toBeNull();
  });
});
