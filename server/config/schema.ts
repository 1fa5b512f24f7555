/**
 * The one configuration schema. Every setting has its default here, so trackd runs with no
 * config file at all; load.ts layers the file, TRACKD_* variables and flags on top of it.
 */
import { Type, type Static } from "@sinclair/typebox";

const Id = Type.String({ description: "A positive integer or a UUID, as in the collect URL." });

export const LimitsSchema = Type.Object(
  {
    maxBodyBytes: Type.Integer({ minimum: 256, maximum: 16 * 1024 * 1024, default: 65536, description: "Largest event body in bytes, after decompression." }),
    maxFieldLength: Type.Integer({ minimum: 1, default: 256, description: "Longest action, object, vendor, product or instance ID, in characters." }),
    maxLabelLength: Type.Integer({ minimum: 1, default: 1024, description: "Longest label, in characters." }),
    maxStringLength: Type.Integer({ minimum: 1, default: 8192, description: "Longest string anywhere under properties, in characters." }),
    maxDepth: Type.Integer({ minimum: 1, maximum: 256, default: 16, description: "Deepest nesting of objects and arrays in the body." }),
    maxProperties: Type.Integer({ minimum: 1, default: 256, description: "Most properties (other than the known fields) at the top level of an event." }),
    maxKeyLength: Type.Integer({ minimum: 1, default: 128, description: "Longest property name, in characters." }),
  },
  { additionalProperties: false, default: {} },
);

export const RegistrySchema = Type.Object(
  {
    unknownIds: Type.Union([Type.Literal("accept"), Type.Literal("reject")], { default: "accept", description: "accept: store events for unregistered IDs and flag them; reject: refuse them." }),
    accounts: Type.Array(
      Type.Object({ id: Id, name: Type.String(), type: Type.Union([Type.Literal("dealership"), Type.Literal("vendor")], { default: "dealership" }) }, { additionalProperties: false }),
      { default: [] },
    ),
    trackers: Type.Array(
      Type.Object({ id: Id, accountId: Id, name: Type.String(), allowedOrigins: Type.Array(Type.String(), { default: [] }) }, { additionalProperties: false }),
      { default: [] },
    ),
    vendors: Type.Array(
      Type.Object({ name: Type.String(), products: Type.Array(Type.String(), { default: [] }) }, { additionalProperties: false }),
      { default: [] },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: "0.0.0.0", description: "Address to listen on." }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: "Port to listen on (0 picks a free one)." }),
    dataDir: Type.String({ minLength: 1, default: "./data", description: "Directory for the LMDB store and the admin token." }),
    durability: Type.Union([Type.Literal("durable"), Type.Literal("relaxed")], {
      default: "durable",
      description: "durable: answer only after the event is flushed to disk; relaxed: after it is committed (survives a process crash, not a power cut).",
    }),
    trustedProxies: Type.Array(Type.String(), { default: [], description: "Addresses or CIDR ranges whose X-Forwarded-For is believed." }),
    logLevel: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], { default: "info" }),
    rejectLogSize: Type.Integer({ minimum: 0, default: 10000, description: "How many rejected requests are kept for the admin page." }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10000, description: "How long SIGTERM waits for in-flight requests." }),
    limits: LimitsSchema,
    registry: RegistrySchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type Limits = Static<typeof LimitsSchema>;
export type RegistryConfig = Static<typeof RegistrySchema>;
