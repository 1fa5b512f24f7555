/** The ADF sink's configuration (an entry of `sinks` with kind "adf"): leads to a CRM. */
import { type Static, Type } from "@sinclair/typebox";
import { deliverySchema, Name, type SinkKind } from "../sink-config.ts";
import { AdfSink } from "./adf-sink.ts";
import { HttpTransport } from "./http-transport.ts";
import { SmtpTransport } from "./smtp-transport.ts";

const SmtpSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      description: "The SMTP server (the relay or the CRM's MX).",
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    security: Type.Union([Type.Literal("starttls"), Type.Literal("tls"), Type.Literal("none")], {
      default: "starttls",
      description:
        "starttls: upgrade with STARTTLS, refuse a server without it (port 587); tls: TLS from the start (port 465); none: plain (a relay on localhost only).",
    }),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    rejectUnauthorized: Type.Boolean({
      default: true,
      description:
        "Refuse a server certificate that does not verify (false: an internal relay's own).",
    }),
    from: Type.String({ minLength: 3, description: "The sender address." }),
    to: Type.Array(Type.String({ minLength: 3 }), {
      minItems: 1,
      description: "The CRM's lead intake address(es).",
    }),
    subject: Type.String({
      minLength: 1,
      maxLength: 200,
      default: "{dealer}: new lead from {vendor}",
      description: "The subject; {dealer}, {vendor}, {product} and {eventId} are filled in.",
    }),
    xmlAs: Type.Union([Type.Literal("body"), Type.Literal("attachment")], {
      default: "body",
      description:
        "body: the plain-text body is only the XML (most CRMs); attachment: lead-<id>.xml.",
    }),
    timeoutMs: Type.Integer({ minimum: 1000, default: 30000 }),
  },
  { additionalProperties: false },
);

const HttpSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      patternMessage: "an http:// or https:// URL",
      description: "Where each lead's XML is POSTed.",
    }),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "Extra request headers (a CRM's token, Basic auth).",
    }),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Shared secret for the X-Trackd-Signature HMAC-SHA256 header, as the webhook sink's.",
      }),
    ),
    timeoutMs: Type.Integer({ minimum: 1, default: 10000 }),
  },
  { additionalProperties: false },
);

export const AdfSinkSchema = Type.Object(
  {
    kind: Type.Literal("adf"),
    name: Name,
    delivery: deliverySchema({ maxEvents: 20, maxBytes: 1024 * 1024 }),
    accountId: Type.Optional(
      Type.String({
        minLength: 1,
        description: "The account whose leads go (default: every account).",
      }),
    ),
    vendors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            vendor: Type.String({ minLength: 1 }),
            product: Type.Optional(Type.String({ minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        {
          description:
            "Only leads of these vendors (and products) go, matched case-insensitively (default: every lead). Leave out vendors that send their own ADF.",
        },
      ),
    ),
    delaySeconds: Type.Integer({
      minimum: 0,
      maximum: 86400,
      default: 120,
      description:
        "Wait this long after a lead arrives, so the vendor's enrichments of it arrive first.",
    }),
    dealer: Type.Object(
      {
        email: Type.Optional(Type.String({ minLength: 3 })),
        phone: Type.Optional(Type.String({ minLength: 3 })),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          "How the CRM reaches the dealership (ADF's vendor contact); by e-mail, the first smtp.to address when not given.",
      },
    ),
    adminUrl: Type.Optional(
      Type.String({
        pattern: "^https?://",
        patternMessage: "an http:// or https:// URL",
        description:
          "The admin page's address as staff open it, for the journey link (default: trackd's own).",
      }),
    ),
    smtp: Type.Optional(SmtpSchema),
    http: Type.Optional(HttpSchema),
  },
  { additionalProperties: false },
);

export type AdfSinkConfig = Static<typeof AdfSinkSchema>;
export type SmtpConfig = Static<typeof SmtpSchema>;
export type HttpConfig = Static<typeof HttpSchema>;

/** An ADF sink sends by exactly one of SMTP and HTTP. */
export class AdfConfigError extends Error {}

export const adfSinkKind: SinkKind<typeof AdfSinkSchema> = {
  kind: "adf",
  schema: AdfSinkSchema,
  create: (c, _dataDir, context) => {
    if ((c.smtp === undefined) === (c.http === undefined))
      throw new AdfConfigError(`sink "${c.name}" (adf): give either smtp or http, one of them`);
    const transport = c.smtp ? new SmtpTransport(c.smtp) : new HttpTransport(c.http!);
    const dealerEmail = c.dealer.email ?? c.smtp?.to[0] ?? null;
    if (dealerEmail === null && c.dealer.phone === undefined)
      throw new AdfConfigError(
        `sink "${c.name}" (adf): give dealer.email or dealer.phone, how the CRM reaches the dealership`,
      );
    return new AdfSink(c, context, transport, dealerEmail);
  },
};
