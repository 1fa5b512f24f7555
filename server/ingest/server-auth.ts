/**
 * Signed server events: a tracker with `serverAuth` set takes server-side events only from
 * senders that prove they hold one of its secrets (store/tracker-secrets.ts).
 *
 * - `hmac`: `X-Trackd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the
 *   scheme payment webhooks use. The body is the request's body as sent (compressed, if it was
 *   sent compressed); for GET it is the query string after `?`. Its parts may come in any
 *   order; several v1 are allowed (one per secret during a rotation) and one matching is
 *   enough; other parts are ignored. A genuine signature more than TOLERANCE_SECONDS from the
 *   server's clock is expired. Inside that window, the same signature again is a replay: the
 *   caller stores the event under the signature as its retry key, so a replay is answered as a
 *   duplicate and stores nothing (as an honest retry of the same bytes is).
 * - `bearer`: `Authorization: Bearer <secret>` (a signature is taken too).
 *
 * Browser events are never asked (the Web SDK cannot keep a secret; allowed origins apply to
 * them), and are never leads either (journey/lead-rule.ts), so posting "as a browser" forges
 * no lead.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { ErrorCode, ErrorDetail } from "../errors.ts";
import type { EventContext } from "../events/event.model.ts";
import type { ServerAuth } from "../registry/registry.model.ts";
import type { LiveSecret } from "../store/tracker-secrets.ts";

/** How far a signature's time may be from the server's clock, either way. */
export const TOLERANCE_SECONDS = 300;
/** The signature header's name, as documented. */
export const SIGNATURE_HEADER = "x-trackd-signature";
const MAX_HEADER = 1024;

/** A tracker's live secrets, as the check needs them. */
export interface SecretsOf {
  liveSecrets(accountId: string, trackerId: string): LiveSecret[];
  matchBearer(accountId: string, trackerId: string, value: string): LiveSecret | undefined;
}

/** What a request offers as proof of its sender. */
export interface Proof {
  signature: string | null;
  authorization: string | null;
  /** The signed bytes: the body as sent, or for GET the query string. */
  signed: () => Uint8Array;
}

export type SenderCheck =
  | {
      ok: true;
      method: "hmac" | "bearer";
      secretId: string;
      /** The matching signature: a second request with it is a replay. */
      replayKey: string | null;
    }
  | { ok: false; code: ErrorCode; details: ErrorDetail[] };

const refusal = (code: ErrorCode, path: string, message: string): SenderCheck => ({
  ok: false,
  code,
  details: [{ path, code: "invalid_value", message }],
});

/** The signature header's parts: its one `t` and its `v1` values, or what is wrong with it. */
function parseSignature(header: string): { t: number; v1: string[] } | string {
  if (header.length > MAX_HEADER) return `longer than ${MAX_HEADER} characters`;
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) return `"${part.trim().slice(0, 40)}" is not key=value`;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === "t") {
      if (t !== undefined) return "t is given more than once";
      if (!/^[0-9]{1,12}$/.test(value)) return "t must be the time in whole Unix seconds";
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return "v1 must be 64 hexadecimal digits";
      v1.push(value.toLowerCase());
    }
  }
  if (t === undefined) return "t (the signing time) is missing";
  if (v1.length === 0) return "v1 (the HMAC-SHA256) is missing";
  return { t, v1 };
}

function checkSignature(
  header: string,
  secrets: LiveSecret[],
  signed: Uint8Array,
  nowMs: number,
): SenderCheck {
  const parsed = parseSignature(header);
  if (typeof parsed === "string")
    return refusal("invalid_signature", SIGNATURE_HEADER, `X-Trackd-Signature: ${parsed}.`);
  const offered = parsed.v1.map((hex) => Buffer.from(hex, "hex"));
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret.secret)
      .update(`${parsed.t}.`)
      .update(signed)
      .digest();
    const match = offered.findIndex((v) => timingSafeEqual(v, expected));
    if (match < 0) continue;
    const skew = Math.round(nowMs / 1000) - parsed.t;
    if (Math.abs(skew) > TOLERANCE_SECONDS)
      return refusal(
        "signature_expired",
        SIGNATURE_HEADER,
        `The signature was made at t=${parsed.t}, ${Math.abs(skew)} s ${skew > 0 ? "ago" : "ahead of this server's clock"}; sign each request as it is sent (within ${TOLERANCE_SECONDS} s).`,
      );
    return { ok: true, method: "hmac", secretId: secret.id, replayKey: parsed.v1[match]! };
  }
  return refusal(
    "invalid_signature",
    SIGNATURE_HEADER,
    secrets.length === 0
      ? "This tracker has no secret yet: make one in the registry and sign with it."
      : 'No v1 is the HMAC-SHA256 of "<t>.<body>" under one of this tracker\'s secrets.',
  );
}

/**
 * Whether a server-side event's request proves its sender under the tracker's `serverAuth`
 * (not "none": the caller asks only then).
 */
export function checkSender(
  mode: Exclude<ServerAuth, "none">,
  secrets: SecretsOf,
  accountId: string,
  trackerId: string,
  proof: Proof,
  nowMs: number,
): SenderCheck {
  if (proof.signature !== null)
    return checkSignature(
      proof.signature,
      secrets.liveSecrets(accountId, trackerId),
      proof.signed(),
      nowMs,
    );
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(proof.authorization ?? "")?.[1];
  if (mode === "bearer" && bearer !== undefined) {
    const secret = secrets.matchBearer(accountId, trackerId, bearer);
    return secret
      ? { ok: true, method: "bearer", secretId: secret.id, replayKey: null }
      : refusal("invalid_signature", "authorization", "That is not one of this tracker's secrets.");
  }
  return refusal(
    "signature_required",
    mode === "hmac" ? SIGNATURE_HEADER : "authorization",
    mode === "hmac"
      ? "This tracker takes server-side events signed: send X-Trackd-Signature (see the HTTP API docs)."
      : "This tracker takes server-side events with its secret: send Authorization: Bearer <secret>.",
  );
}

/** What an event records of its sender's proof (context.auth). */
export type SenderAuth = NonNullable<EventContext["auth"]>;
