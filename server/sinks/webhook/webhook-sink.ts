/**
 * POSTs each batch as one JSON array to a URL. With a secret, `X-Trackd-Signature:
 * sha256=<hex>` carries HMAC-SHA256(secret, raw body), so a receiver can check that trackd
 * sent it. 2xx is ok; 408, 429 (honouring Retry-After), 5xx, timeouts and network errors
 * are retried; any other status is fatal.
 */
import { createHmac } from "node:crypto";
import type { WebhookSinkConfig } from "./webhook-config.ts";
import {
  causeOf,
  OK,
  type DeliveryItem,
  type Attempt,
  type SendResult,
  type Sink,
  type SinkHealth,
} from "../types.ts";

export const SIGNATURE_HEADER = "x-trackd-signature";

/** The signature header value for a body. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Seconds or an HTTP date, as milliseconds from now; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class WebhookSink implements Sink {
  readonly kind = "webhook";
  readonly name: string;
  private closed = false;

  constructor(
    private readonly config: Pick<
      WebhookSinkConfig,
      "name" | "url" | "headers" | "timeoutMs" | "secret"
    >,
  ) {
    this.name = config.name;
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    return this.post(`[${batch.map((i) => i.json).join(",")}]`, batch.length);
  }

  /** Posts an empty batch: the same request, signature and status handling as a delivery. */
  async health(): Promise<SinkHealth> {
    const outcome = await this.post("[]", 0);
    return outcome.kind === "ok"
      ? { ok: true, detail: `${this.config.url} accepted an empty batch` }
      : { ok: false, detail: outcome.cause };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async post(body: string, count: number): Promise<Attempt> {
    if (this.closed) return { kind: "retry", cause: "sink closed" };
    const headers: Record<string, string> = {
      ...this.config.headers,
      "content-type": "application/json",
      "x-trackd-batch-size": String(count),
    };
    if (this.config.secret) headers[SIGNATURE_HEADER] = signBody(this.config.secret, body);
    let res: Response;
    try {
      res = await fetch(this.config.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      await res.arrayBuffer().catch(() => {}); // drain, so the connection can be reused
    } catch (err) {
      return {
        kind: "retry",
        cause:
          (err as Error).name === "TimeoutError"
            ? `timed out after ${this.config.timeoutMs} ms`
            : causeOf(err),
      };
    }
    if (res.status >= 200 && res.status < 300) return OK;
    const cause = `HTTP ${res.status} from ${this.config.url}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500)
      return { kind: "retry", cause, delayMs: retryAfterMs(res.headers.get("retry-after")) };
    return { kind: "fatal", cause };
  }
}
