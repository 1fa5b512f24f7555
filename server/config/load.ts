/**
 * The only reader of the config file, TRACKD_* variables and command-line flags. Order:
 * schema defaults, then the file (--config / TRACKD_CONFIG), then variables, then flags.
 * Every problem is collected and reported at once.
 */
import { parse as parseToml } from "smol-toml";
import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import type { TSchema } from "@sinclair/typebox";
import { ConfigSchema, type Config } from "./schema.ts";
import { SINK_KINDS } from "../sinks/kinds.ts";
import { explain, lineOf, nearest } from "./explain.ts";

const SINK_SCHEMAS: Record<string, TSchema> = Object.fromEntries(
  SINK_KINDS.map((k) => [k.kind, k.schema]),
);

/**
 * Sinks are a union keyed by `kind`; TypeBox reports a bad member only as "Expected union
 * value", so each sink gets its defaults and its errors from the schema of its own kind.
 */
function checkSinks(sinks: unknown, problems: string[], where: (path: string) => string): unknown {
  if (!Array.isArray(sinks)) return sinks;
  const names = new Set<string>();
  return sinks.map((sink, i) => {
    const kind = (sink as { kind?: unknown } | null)?.kind;
    const schema = typeof kind === "string" ? SINK_SCHEMAS[kind] : undefined;
    if (!schema) {
      const meant = typeof kind === "string" ? nearest(kind, Object.keys(SINK_SCHEMAS)) : null;
      problems.push(
        `/sinks/${i}/kind: must be one of ${Object.keys(SINK_SCHEMAS).join(", ")}${where(`/sinks/${i}/kind`)}${meant ? `; did you mean "${meant}"?` : ""}`,
      );
      return sink;
    }
    const value = Value.Default(schema, Value.Convert(schema, sink));
    for (const e of Value.Errors(schema, value))
      problems.push(explain(e, schema, where, `/sinks/${i}`));
    const name = (value as { name?: string }).name;
    if (name && names.has(name))
      problems.push(`/sinks/${i}/name: "${name}" is used by another sink`);
    if (name) names.add(name);
    return value;
  });
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** A setting that can come from a variable or a flag: a scalar (or string list) leaf of the schema. */
export interface Setting {
  path: string[];
  env: string;
  flag: string;
  list: boolean;
  /** The setting's own schema: its description, default and allowed values. */
  schema: TSchema;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Every variable/flag pair, derived from the schema so the names never drift from it. */
export function settings(schema: TSchema = ConfigSchema, prefix: string[] = []): Setting[] {
  const out: Setting[] = [];
  for (const [key, sub] of Object.entries(schema.properties ?? {}) as [string, TSchema][]) {
    const path = [...prefix, key];
    if (sub.type === "object") out.push(...settings(sub, path));
    else if (sub.type === "array" && sub.items?.type !== "string")
      continue; // registry lists: file only
    else
      out.push({
        path,
        env: `TRACKD_${path.map(snake).join("_")}`,
        flag: `--${path.map(kebab).join(".")}`,
        list: sub.type === "array",
        schema: sub,
      });
  }
  return out;
}

/** The values a setting allows, when it is a choice among literals ("durable", "relaxed"). */
function choices(schema: TSchema): string[] | null {
  const options = (schema.anyOf ?? []) as TSchema[];
  return options.length > 0 && options.every((o) => o.const !== undefined)
    ? options.map((o) => String(o.const))
    : null;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readConfigFile(
  file: string,
  problems: string[],
): { raw: Record<string, unknown>; text: string } {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    problems.push(
      `config file ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
    return { raw: {}, text };
  }
  try {
    const parsed: unknown = file.endsWith(".toml") ? parseToml(text) : JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return { raw: parsed as Record<string, unknown>, text };
    problems.push(`config file ${file}: must contain an object`);
  } catch (err) {
    problems.push(`config file ${file}: ${(err as Error).message}`);
  }
  return { raw: {}, text };
}

interface Parsed {
  flags: Map<string, string>;
  configFile?: string;
  help: boolean;
  version: boolean;
}

function parseArgs(argv: string[], known: Set<string>, problems: string[]): Parsed {
  const flags = new Map<string, string>();
  let configFile: string | undefined;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--version" || arg === "-v") {
      version = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== "--config" && !known.has(name)) {
      const meant = name.startsWith("--")
        ? nearest(
            name.slice(2),
            [...known].map((k) => k.slice(2)),
          )
        : null;
      problems.push(
        `unknown argument ${arg}${meant ? ` (did you mean --${meant}?)` : " (see --help)"}`,
      );
      // Its value, if it has one, is not another argument: "--durabilty relaxed" is one problem.
      if (
        name.startsWith("--") &&
        eq < 0 &&
        argv[i + 1] !== undefined &&
        !argv[i + 1]!.startsWith("-")
      )
        i++;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      problems.push(`${name} needs a value`);
      continue;
    }
    if (name === "--config") configFile = value;
    else flags.set(name, value);
  }
  return { flags, configFile, help, version };
}

/** Usage text: every flag with its variable, what it does, its default and its allowed values. */
export function usage(): string {
  const rows = settings().flatMap((s) => {
    const allowed = choices(s.schema);
    const def = s.schema.default;
    const facts = [
      allowed ? `one of ${allowed.join(", ")}` : null,
      def !== undefined && def !== "" && !(Array.isArray(def) && def.length === 0)
        ? `default ${Array.isArray(def) ? def.join(",") : String(def)}`
        : null,
      s.list ? "comma-separated" : null,
    ].filter(Boolean);
    const about = [s.schema.description, facts.length > 0 ? `(${facts.join("; ")})` : null]
      .filter(Boolean)
      .join(" ");
    return [`  ${s.flag}`, `      ${s.env}${about ? `: ${about}` : ""}`];
  });
  return [
    "usage: trackd [--config FILE] [flags]",
    "",
    "  --config FILE",
    "      TRACKD_CONFIG: a JSON or TOML file; flags and variables override it",
    "  --version, -v",
    "      print the version and exit",
    ...rows,
    "",
    "  TRACKD_ADMIN_TOKEN sets the admin token (otherwise one is created in the data directory).",
    "  Registry entries and sinks are set in the config file only.",
  ].join("\n");
}

/** Builds the effective configuration or throws ConfigError listing every problem. */
export function loadConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): { config: Config; help: boolean; version: boolean } {
  const problems: string[] = [];
  const all = settings();
  const args = parseArgs(argv, new Set(all.map((s) => s.flag)), problems);
  const file = args.configFile ?? env.TRACKD_CONFIG;
  const read = file ? readConfigFile(file, problems) : { raw: {}, text: "" };
  const raw = read.raw;
  /** Who set each value a variable or flag set, by its JSON pointer; the rest came from the file. */
  const setBy = new Map<string, string>();
  const where = (path: string): string => {
    for (let p = path; p !== ""; p = p.slice(0, p.lastIndexOf("/")))
      if (setBy.has(p)) return ` (set by ${setBy.get(p)})`;
    if (!file) return "";
    // The nearest key by name: an array's items are known by the array's key.
    const key = path.split("/").findLast((part) => !/^\d+$/.test(part)) ?? "";
    const line = lineOf(read.text, key);
    return ` (in ${file}${line !== null ? `, line ${line}` : ""})`;
  };

  const overlay = (setting: Setting, value: string, source: string) => {
    setBy.set(`/${setting.path.join("/")}`, source);
    setPath(
      raw,
      setting.path,
      setting.list
        ? value
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean)
        : value,
    );
  };
  for (const s of all)
    if (env[s.env] !== undefined && env[s.env] !== "") overlay(s, env[s.env]!, s.env);
  for (const s of all) if (args.flags.has(s.flag)) overlay(s, args.flags.get(s.flag)!, s.flag);

  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw)) as Record<
    string,
    unknown
  >;
  const sinkProblems: string[] = [];
  converted.sinks = checkSinks(converted.sinks, sinkProblems, where);
  problems.push(...sinkProblems);
  for (const e of Value.Errors(ConfigSchema, converted)) {
    if (e.path.startsWith("/sinks/") && sinkProblems.length > 0) continue; // already reported precisely
    const setting = all.find((s) => `/${s.path.join("/")}` === e.path);
    // TypeBox says "Expected union value" for a choice: name the choices instead.
    const allowed = setting ? choices(setting.schema) : null;
    if (!allowed) {
      problems.push(explain(e, ConfigSchema, where));
      continue;
    }
    const meant = typeof e.value === "string" ? nearest(e.value, allowed) : null;
    problems.push(
      `${e.path}: must be one of ${allowed.join(", ")}, got ${JSON.stringify(e.value)}${where(e.path)}${meant ? `; did you mean "${meant}"?` : ""}`,
    );
  }
  const tls = converted.tls as Config["tls"] | undefined;
  if (tls && (tls.certFile === "") !== (tls.keyFile === ""))
    problems.push("/tls: set both tls.certFile and tls.keyFile, or neither");
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: converted as Config, help: args.help, version: args.version };
}
