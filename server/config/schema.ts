/**
 * The one configuration schema. Every setting has its default here, so trackd runs with no
 * config file at all; load.ts layers the file, TRACKD_* variables and flags on top of it.
 */
import { Type, type Static } from "@sinclair/typebox";
import { SinkConfigSchema } from "../sinks/kinds.ts";

export type { SinkConfig } from "../sinks/kinds.ts";
export type { DeliveryConfig } from "../sinks/sink-config.ts";

const Id = Type.String({ description: "A positive integer or a UUID, as in the collect URL." });

/**
 * A browser origin as browsers send it in the Origin header: scheme and host (and port),
 * lower-case, no path or trailing slash. Anything else could never match, so it is refused.
 */
export const ORIGIN_PATTERN =
  "^https?://(\\[[0-9a-f:.]+\\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:[0-9]{1,5})?$";
export const OriginSchema = Type.String({
  pattern: ORIGIN_PATTERN,
  patternMessage:
    "an origin: scheme and host, with the port if not the default, lower case, and nothing after it (no path, no trailing slash), like https://www.example.com",
  maxLength: 200,
  description:
    "A browser origin: https://dealer.example or http://localhost:3000, lower-case, no path.",
});

/** How a tracker's server-side events prove their sender (registry/registry.model.ts ServerAuth). */
export const ServerAuthSchema = Type.Union(
  [Type.Literal("none"), Type.Literal("hmac"), Type.Literal("bearer")],
  {
    description:
      "How the tracker's server-side events prove their sender: none, hmac (X-Trackd-Signature) or bearer (Authorization: Bearer <secret>).",
  },
);
/** What is kept of a client's address (ingest/ip-policy.ts): a tracker's own, without a default. */
export const IpPolicySchema = Type.Union([
  Type.Literal("truncate"),
  Type.Literal("keep"),
  Type.Literal("hash"),
  Type.Literal("drop"),
]);

export type IpPolicy = Static<typeof IpPolicySchema>;

/** What becomes of a server event that does not prove its sender. */
export const UnverifiedSchema = Type.Union([Type.Literal("refuse"), Type.Literal("flag")], {
  description:
    "A server event without a valid signature or secret: refuse (401, the default) or flag (stored as unverified, never a lead).",
});

export const LimitsSchema = Type.Object(
  {
    maxBodyBytes: Type.Integer({
      minimum: 256,
      maximum: 16 * 1024 * 1024,
      default: 65536,
      description: "Largest event body in bytes, after decompression.",
    }),
    // At most 400: an instance ID goes into an LMDB key (at most 1978 bytes, 4 per character).
    maxFieldLength: Type.Integer({
      minimum: 1,
      maximum: 400,
      default: 256,
      description: "Longest action, object, vendor, product or instance ID, in characters.",
    }),
    maxLabelLength: Type.Integer({
      minimum: 1,
      default: 1024,
      description: "Longest label, in characters.",
    }),
    maxStringLength: Type.Integer({
      minimum: 1,
      default: 8192,
      description: "Longest string anywhere under properties, in characters.",
    }),
    maxDepth: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 16,
      description: "Deepest nesting of objects and arrays in the body.",
    }),
    maxProperties: Type.Integer({
      minimum: 1,
      default: 256,
      description: "Most properties (other than the known fields) at the top level of an event.",
    }),
    maxKeyLength: Type.Integer({
      minimum: 1,
      default: 128,
      description: "Longest property name, in characters.",
    }),
    maxBatchEvents: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 500,
      description: "Most events in one batch request.",
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: "Largest batch body in bytes, after decompression.",
    }),
  },
  { additionalProperties: false, default: {} },
);

export const RegistrySchema = Type.Object(
  {
    unknownIds: Type.Union([Type.Literal("accept"), Type.Literal("reject")], {
      default: "accept",
      description: "accept: store events for unregistered IDs and flag them; reject: refuse them.",
    }),
    accounts: Type.Array(
      Type.Object(
        {
          id: Id,
          name: Type.String(),
          type: Type.Union([Type.Literal("dealership"), Type.Literal("vendor")], {
            default: "dealership",
          }),
          junkIdentifiers: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    trackers: Type.Array(
      Type.Object(
        {
          id: Id,
          accountId: Id,
          name: Type.String(),
          allowedOrigins: Type.Array(OriginSchema, { default: [] }),
          serverAuth: Type.Optional(ServerAuthSchema),
          unverified: Type.Optional(UnverifiedSchema),
          ip: Type.Optional(IpPolicySchema),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    vendors: Type.Array(
      Type.Object(
        { name: Type.String(), products: Type.Array(Type.String(), { default: [] }) },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false, default: {} },
);

/** How far the shopper behind an event is followed (journey.ts): bounds, so one shared identifier cannot join everyone. */
export const JourneySchema = Type.Object(
  {
    maxDevicesPerIdentifier: Type.Integer({
      minimum: 1,
      default: 5,
      description:
        "An identifier (instance ID, user ID, email or phone hash) seen on more devices than this is shared (a test email, a showroom tablet): reported, not followed.",
    }),
    maxEventsPerIdentifier: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description:
        "An identifier on more events than this is not followed (a device's newest events past it are left out).",
    }),
    maxDevices: Type.Integer({
      minimum: 1,
      default: 25,
      description: "Most devices one journey joins.",
    }),
    maxEvents: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 5000,
      description: "Most events one journey returns.",
    }),
    includeBots: Type.Boolean({
      default: false,
      description:
        "Browser events flagged as bots (automated, headless or a known crawler) link into journeys like any other; by default they are stored and counted but link nothing.",
    }),
    oneIdentityPerDevice: Type.Boolean({
      default: true,
      description:
        "A device reached through a user ID, email or phone whose events carry another user ID or email than the journey's is not followed (a showroom tablet, a family computer).",
    }),
  },
  { additionalProperties: false, default: {} },
);

/** What counts as a lead: a server-side event whose action or object is listed (matched case-insensitively). */
export const LeadsSchema = Type.Object(
  {
    actions: Type.Array(Type.String({ minLength: 1 }), {
      default: ["submit"],
      description: "Server-side events with one of these actions are leads.",
    }),
    objects: Type.Array(Type.String({ minLength: 1 }), {
      default: ["lead"],
      description: "Server-side events with one of these objects are leads.",
    }),
    notActions: Type.Array(Type.String({ minLength: 1 }), {
      default: ["change"],
      description:
        "Events with one of these actions are never leads, whatever their object: a vendor's enrichment of a shopper or a lead (change lead) is not a second lead.",
    }),
  },
  { additionalProperties: false, default: {} },
);

/** How long visits count toward a lead (leads.ts), kept in the long memory (visit-memory.ts). */
export const AttributionSchema = Type.Object(
  {
    lookbackDays: Type.Integer({
      minimum: 1,
      maximum: 365,
      default: 90,
      description:
        "A visit counts toward a lead that came at most this many days after it began; a summary of each visit is kept this long after retention deletes its raw events.",
    }),
  },
  { additionalProperties: false, default: {} },
);

/** Customers' contact details on leads (events/lead-details.ts, store/contact-vault.ts). */
export const PiiSchema = Type.Object(
  {
    retentionDays: Type.Integer({
      minimum: 1,
      maximum: 3650,
      default: 30,
      description:
        "A lead's customer (name, e-mail, phone, address) is kept this many days, then its day's key and its record are deleted; the lead, its vehicle and the contact's hashes stay.",
    }),
    keyFile: Type.String({
      default: "",
      description:
        "The file of the keys that seal customers, outside the LMDB store (default: <dataDir>/pii-keys.json, made on first start with mode 0600).",
    }),
    defaultCountry: Type.String({
      pattern: "^[A-Z]{2}$",
      patternMessage: "a country code of two capital letters, like US or CA",
      default: "US",
      description:
        "The country (ISO 3166 code) a customer's phone number without a country code is read in.",
    }),
    ip: Type.Union(IpPolicySchema.anyOf, {
      default: "truncate",
      description:
        "What is kept of a client's address in events and the reject log: truncate (its /24 or /48), keep, hash (keyed, per day) or drop; a tracker's own ip wins.",
    }),
  },
  { additionalProperties: false, default: {} },
);

const Bucket = (what: string) =>
  Type.Object(
    {
      ratePerSecond: Type.Number({
        minimum: 0,
        default: 0,
        description: `Requests per second per ${what} (0: no limit).`,
      }),
      burst: Type.Integer({
        minimum: 1,
        default: 100,
        description: "Requests allowed at once before the rate applies.",
      }),
    },
    { additionalProperties: false, default: {} },
  );

export const RateLimitSchema = Type.Object(
  { perIp: Bucket("client address"), perTracker: Bucket("tracker") },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: "0.0.0.0", description: "Address to listen on." }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8080,
      description: "Port to listen on (0 picks a free one).",
    }),
    dataDir: Type.String({
      minLength: 1,
      default: "./data",
      description: "Directory for the LMDB store and the admin token.",
    }),
    durability: Type.Union([Type.Literal("durable"), Type.Literal("relaxed")], {
      default: "durable",
      description:
        "durable: answer only after the event is flushed to disk; relaxed: after it is committed (survives a process crash, not a power cut).",
    }),
    trustedProxies: Type.Array(Type.String(), {
      default: [],
      description: "Addresses or CIDR ranges whose X-Forwarded-For is believed.",
    }),
    logLevel: Type.Union(
      [Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")],
      { default: "info" },
    ),
    rejectLogSize: Type.Integer({
      minimum: 0,
      default: 10000,
      description: "How many rejected requests are kept for the admin page.",
    }),
    admin: Type.Object(
      {
        host: Type.String({
          default: "127.0.0.1",
          description: "Address of the admin listener, when admin.port is set.",
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 0,
          description: "Serve the admin page and API on their own port (0: on the main listener).",
        }),
        queryTimeoutSeconds: Type.Integer({
          minimum: 1,
          maximum: 3600,
          default: 30,
          description:
            "An admin query that reads a growing amount (leads and exports, journeys, event and reject lists) running longer than this is stopped with 503 query_timeout.",
        }),
        accessLogDays: Type.Integer({
          minimum: 1,
          maximum: 3650,
          default: 365,
          description:
            "How long the access log keeps who read which leads, journeys, events and exports.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Object(
      {
        certFile: Type.String({
          default: "",
          description:
            "PEM certificate (with its chain): with tls.keyFile the listeners speak HTTPS. Re-read on SIGHUP.",
        }),
        keyFile: Type.String({
          default: "",
          description: "PEM private key of tls.certFile. Re-read on SIGHUP.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    workers: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 64,
        description:
          "Ignored since 0.5.0 (trackd serves on one thread; a warning says so): run more processes to use more cores.",
      }),
    ),
    shutdownTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10000,
      description: "How long SIGTERM waits for in-flight requests.",
    }),
    limits: LimitsSchema,
    rateLimits: RateLimitSchema,
    idleTimeoutSeconds: Type.Integer({
      minimum: 6,
      maximum: 255,
      default: 10,
      description: "Close connections idle (or stalled mid-request) this long.",
    }),
    registry: RegistrySchema,
    journey: JourneySchema,
    leads: LeadsSchema,
    attribution: AttributionSchema,
    pii: PiiSchema,
    sinks: Type.Array(SinkConfigSchema, {
      default: [{ kind: "file", name: "files" }],
      description: "Where events are delivered; by default NDJSON files in <dataDir>/events.",
    }),
    dedupeWindowSeconds: Type.Integer({
      minimum: 1,
      default: 86400,
      description: "How long a client's eventId is remembered, so a retry is stored once.",
    }),
    retentionSeconds: Type.Integer({
      minimum: 0,
      default: 7 * 86400,
      description:
        "Delivered events are kept this long, then deleted (leads: attribution.lookbackDays).",
    }),
    storageMinFreeBytes: Type.Integer({
      minimum: 0,
      default: 64 * 1024 * 1024,
      description:
        "Refuse new events (503) while the data directory's disk has less free space than this.",
    }),
    storageMaxBytes: Type.Integer({
      minimum: 0,
      default: 10 * 1024 ** 3,
      description:
        "Storage cap; at the cap new events get 503 until delivery frees space (0: no cap).",
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type Limits = Static<typeof LimitsSchema>;
export type RegistryConfig = Static<typeof RegistrySchema>;
export type JourneyLimits = Static<typeof JourneySchema>;
export type LeadRule = Static<typeof LeadsSchema>;
export type AttributionConfig = Static<typeof AttributionSchema>;
export type PiiConfig = Static<typeof PiiSchema>;
