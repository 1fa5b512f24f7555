/**
 * ADF leads by HTTP POST: the XML as `application/xml`, signed as the webhook sink signs
 * (X-Trackd-Signature: sha256=<HMAC of the body>) when a secret is set. 2xx is delivered;
 * 408, 429 (honouring Retry-After), 5xx and network errors are retried; any other status is
 * a refusal for good.
 */
import { causeOf, type Attempt, type SinkHealth } from "../types.ts";
import { retryAfterMs, SIGNATURE_HEADER, signBody } from "../webhook/webhook-sink.ts";
import type { HttpConfig } from "./adf-config.ts";
import type { LeadTransport } from "./transport.ts";

export class HttpTransport implements LeadTransport {
  constructor(private readonly config: HttpConfig) {}

  async deliver(xml: string): Promise<{ outcome: Attempt; answer: string }> {
    const headers: Record<string, string> = {
      ...this.config.headers,
      "content-type": "application/xml; charset=utf-8",
    };
    if (this.config.secret) headers[SIGNATURE_HEADER] = signBody(this.config.secret, xml);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.config.url, {
        method: "POST",
        headers,
        body: xml,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      text = await res.text().catch(() => "");
    } catch (err) {
      const cause =
        (err as Error).name === "TimeoutError"
          ? `timed out after ${this.config.timeoutMs} ms`
          : causeOf(err);
      return { outcome: { kind: "retry", cause }, answer: cause };
    }
    const answer = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
    if (res.ok) return { outcome: { kind: "ok" }, answer };
    if (res.status === 408 || res.status === 429 || res.status >= 500)
      return {
        outcome: {
          kind: "retry",
          cause: answer,
          delayMs: retryAfterMs(res.headers.get("retry-after")),
        },
        answer,
      };
    return { outcome: { kind: "fatal", cause: answer }, answer };
  }

  /** Whether the receiver answers at all: a HEAD request (no lead is sent). */
  async health(): Promise<SinkHealth> {
    try {
      const res = await fetch(this.config.url, {
        method: "HEAD",
        headers: this.config.headers,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      return res.status < 500
        ? { ok: true, detail: `${this.config.url} answers (HTTP ${res.status})` }
        : { ok: false, detail: `HTTP ${res.status} from ${this.config.url}` };
    } catch (err) {
      return { ok: false, detail: causeOf(err) };
    }
  }

  async close(): Promise<void> {}
}
