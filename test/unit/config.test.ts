import { describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, settings, usage } from "../../server/config/load.ts";
import { tempDir } from "../helpers/test-app.ts";

const examples = join(import.meta.dir, "../../server/config/examples");

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("runs on embedded defaults with no file, variables or flags", () => {
    const { config } = loadConfig([], {});
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
      dataDir: "./data",
      durability: "durable",
      trustedProxies: [],
    });
    expect(config.limits.maxBodyBytes).toBe(65536);
    expect(config.registry.unknownIds).toBe("accept");
  });

  test("layers file, then TRACKD_* variables, then flags", () => {
    const dir = tempDir();
    const file = join(dir, "c.json");
    writeFileSync(
      file,
      JSON.stringify({ port: 1111, host: "127.0.0.1", dataDir: "/file", limits: { maxDepth: 8 } }),
    );
    const { config } = loadConfig(
      ["--config", file, "--port=3333", "--limits.max-body-bytes", "1024"],
      {
        TRACKD_PORT: "2222",
        TRACKD_DATA_DIR: "/env",
        TRACKD_TRUSTED_PROXIES: "10.0.0.0/8, ::1",
        TRACKD_DURABILITY: "relaxed",
      },
    );
    expect(config).toMatchObject({
      port: 3333,
      host: "127.0.0.1",
      dataDir: "/env",
      durability: "relaxed",
      trustedProxies: ["10.0.0.0/8", "::1"],
    });
    expect(config.limits).toMatchObject({ maxDepth: 8, maxBodyBytes: 1024 });
  });

  test("takes the config file from TRACKD_CONFIG", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.toml"), "port = 4444\n[limits]\nmaxDepth = 4\n");
    const { config } = loadConfig([], { TRACKD_CONFIG: join(dir, "c.toml") });
    expect(config.port).toBe(4444);
    expect(config.limits.maxDepth).toBe(4);
  });

  test("reports every problem at once", () => {
    const dir = tempDir();
    const file = join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        port: "eighty",
        durability: "sometimes",
        colour: "blue",
        limits: { maxDepth: 0 },
      }),
    );
    const problems = problemsOf(() =>
      loadConfig(["--config", file, "--bogus", "1", "--host"], { TRACKD_LOG_LEVEL: "loud" }),
    );
    const text = problems.join("\n");
    for (const fragment of [
      "--bogus",
      "--host needs a value",
      "/port",
      "/durability",
      "colour",
      "/limits/maxDepth",
      "/logLevel",
    ])
      expect(text).toContain(fragment);
  });

  test("reports an unreadable or malformed file", () => {
    expect(
      problemsOf(() => loadConfig(["--config", "/nonexistent/trackd.json"], {})).join(),
    ).toContain("cannot read");
    const dir = tempDir();
    writeFileSync(join(dir, "x.json"), "{ nope");
    expect(problemsOf(() => loadConfig(["--config", join(dir, "x.json")], {}))[0]).toContain(
      "x.json",
    );
  });

  test("derives flag and variable names from the schema", () => {
    const names = settings().map((s) => [s.flag, s.env]);
    expect(names).toContainEqual(["--data-dir", "TRACKD_DATA_DIR"]);
    expect(names).toContainEqual(["--limits.max-body-bytes", "TRACKD_LIMITS_MAX_BODY_BYTES"]);
    expect(usage()).toContain("--port");
  });

  test("defaults to one file sink, and takes sinks of every kind from a file with their defaults", () => {
    expect(loadConfig([], {}).config.sinks).toEqual([
      expect.objectContaining({ kind: "file", name: "files", maxFileBytes: 134217728 }),
    ]);
    const { config } = loadConfig(["--config", join(examples, "full.toml")], {});
    expect(config.sinks.map((s) => [s.kind, s.name])).toEqual([
      ["file", "files"],
      ["webhook", "crm"],
      ["nats", "stream"],
      ["stdout", "pipe"],
    ]);
    expect(config.sinks[2]).toMatchObject({ delivery: { maxEvents: 5000, retryMaxMs: 60000 } }); // NATS batches are larger
  });

  test("reports each bad sink precisely: unknown kind, bad fields, duplicate names", () => {
    const dir = tempDir();
    const file = join(dir, "sinks.json");
    writeFileSync(
      file,
      JSON.stringify({
        sinks: [
          { kind: "kafka", name: "k" },
          { kind: "webhook", name: "hook", url: "ftp://x", timeoutMs: -1 },
          { kind: "file", name: "a" },
          { kind: "stdout", name: "a" },
        ],
      }),
    );
    const text = problemsOf(() => loadConfig(["--config", file], {})).join("\n");
    for (const fragment of [
      "/sinks/0/kind: must be one of file, webhook, nats, stdout",
      "/sinks/1/url",
      "/sinks/1/timeoutMs",
      '/sinks/3/name: "a" is used by another sink',
    ])
      expect(text).toContain(fragment);
  });

  test("refuses allowed origins that no browser would send: a path, a trailing slash, capitals, no scheme", () => {
    const file = join(tempDir(), "origins.json");
    const trackers = [
      {
        id: "1",
        accountId: "1",
        name: "site",
        allowedOrigins: [
          "https://dealer.example",
          "http://localhost:3000",
          "https://dealer.example/",
          "https://Dealer.example",
          "dealer.example",
          "https://dealer.example/vdp",
        ],
      },
    ];
    writeFileSync(file, JSON.stringify({ registry: { trackers } }));
    const text = problemsOf(() => loadConfig(["--config", file], {})).join("\n");
    for (const i of [2, 3, 4, 5])
      expect(text).toContain(`/registry/trackers/0/allowedOrigins/${i}`);
    for (const i of [0, 1]) expect(text).not.toContain(`/registry/trackers/0/allowedOrigins/${i}`);
    // Said in words, with the origin meant, never as the regular expression.
    expect(text).not.toContain("^https?");
    expect(text).toContain(
      '/registry/trackers/0/allowedOrigins/2: "https://dealer.example/" is not an origin',
    );
    expect(text).toContain('did you mean "https://dealer.example"?');
  });

  test("says where a bad value came from, and the key a misspelt one meant", () => {
    const dir = tempDir();
    const json = join(dir, "trackd.json");
    writeFileSync(
      json,
      [
        "{",
        '  "dataDir": "/tmp/d",',
        '  "durabilty": "durable",',
        '  "port": "eighty",',
        '  "pii": { "ipp": "keep" }',
        "}",
      ].join("\n"),
    );
    const text = problemsOf(() =>
      loadConfig(["--config", json, "--log-levle", "info"], { TRACKD_LIMITS_MAX_DEPTH: "deep" }),
    ).join("\n");
    for (const line of [
      `/durabilty: unknown setting "durabilty" (in ${json}, line 3); did you mean "durability"?`,
      `/port: Expected integer, got "eighty" (in ${json}, line 4)`,
      `/pii/ipp: unknown setting "ipp" (in ${json}, line 5); did you mean "ip"?`,
      '/limits/maxDepth: Expected integer, got "deep" (set by TRACKD_LIMITS_MAX_DEPTH)',
      "unknown argument --log-levle (did you mean --log-level?)",
    ])
      expect(text).toContain(line);
    expect(text).not.toContain("unknown argument info"); // the misspelt flag's value
    const toml = join(dir, "trackd.toml");
    writeFileSync(toml, 'dataDir = "/tmp/d"\n[[sinks]]\nkind = "webhok"\nname = "hook"\n');
    expect(problemsOf(() => loadConfig(["--config", toml], {}))).toEqual([
      `/sinks/0/kind: must be one of file, webhook, nats, stdout, adf (in ${toml}, line 3); did you mean "webhook"?`,
    ]);
  });

  test("names the allowed values of a choice, and --help says what each flag does, its default and its choices", () => {
    expect(problemsOf(() => loadConfig(["--durability", "fast"], {}))).toEqual([
      '/durability: must be one of durable, relaxed, got "fast" (set by --durability)',
    ]);
    expect(problemsOf(() => loadConfig([], { TRACKD_DURABILITY: "Durable" }))).toEqual([
      '/durability: must be one of durable, relaxed, got "Durable" (set by TRACKD_DURABILITY); did you mean "durable"?',
    ]);
    const help = usage();
    expect(help).toContain(
      "--durability\n      TRACKD_DURABILITY: durable: answer only after the event is flushed to disk",
    );
    expect(help).toContain("one of durable, relaxed; default durable");
    expect(help).toContain(
      "--port\n      TRACKD_PORT: Port to listen on (0 picks a free one). (default 8080)",
    );
    expect(help).toContain("--version");
    expect(loadConfig(["--version"], {}).version).toBe(true);
  });

  test("every example config in the repo is valid", () => {
    const files = readdirSync(examples);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const { config } = loadConfig(["--config", join(examples, file)], {});
      expect(config.port).toBe(8080);
    }
  });
});
