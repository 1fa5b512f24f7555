/**
 * ADF leads by e-mail, with nodemailer: one message per lead, its plain-text body only the
 * XML (or the XML attached, as the CRM wants), a Message-ID made from the event ID so a resend
 * is recognisably the same lead. A message the server refuses for good (a 5xx to the
 * envelope or the message) is fatal; everything else (connection, TLS, authentication, 4xx)
 * is retried, so a wrong password or an outage never dead-letters leads.
 */
import nodemailer, { type Transporter } from "nodemailer";
import { causeOf, type Attempt, type SinkHealth } from "../types.ts";
import type { SmtpConfig } from "./adf-config.ts";
import type { LeadLabels, LeadTransport } from "./transport.ts";

/** The subject template filled in ({dealer}, {vendor}, {product}, {eventId}). */
export function subjectOf(template: string, lead: LeadLabels): string {
  return template.replace(/\{(dealer|vendor|product|eventId)\}/g, (_, k: keyof LeadLabels) =>
    lead[k].replace(/[\r\n]+/g, " "),
  );
}

/** The errors nodemailer gives for a refusal of this message rather than of the session. */
const MESSAGE_REFUSED = new Set(["EENVELOPE", "EMESSAGE"]);

export class SmtpTransport implements LeadTransport {
  private readonly mailer: Transporter;

  constructor(private readonly config: SmtpConfig) {
    this.mailer = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.security === "tls",
      requireTLS: config.security === "starttls",
      ignoreTLS: config.security === "none",
      auth: config.user ? { user: config.user, pass: config.password ?? "" } : undefined,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      tls: { rejectUnauthorized: config.rejectUnauthorized },
    });
  }

  async deliver(xml: string, lead: LeadLabels): Promise<{ outcome: Attempt; answer: string }> {
    const body =
      this.config.xmlAs === "body"
        ? { text: xml }
        : {
            text: `An ADF/XML lead from ${lead.vendor} is attached (lead-${lead.eventId}.xml).`,
            attachments: [
              {
                filename: `lead-${lead.eventId}.xml`,
                content: xml,
                contentType: "application/xml",
              },
            ],
          };
    try {
      const info = await this.mailer.sendMail({
        from: this.config.from,
        to: this.config.to,
        subject: subjectOf(this.config.subject, lead),
        messageId: `<${lead.eventId}.adf@trackd>`,
        ...body,
      });
      return { outcome: { kind: "ok" }, answer: String(info.response ?? "accepted") };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string };
      const answer = e.response ?? causeOf(err);
      const fatal =
        MESSAGE_REFUSED.has(e.code ?? "") &&
        (e.responseCode ?? 0) >= 500 &&
        (e.responseCode ?? 0) < 600;
      return {
        outcome: fatal ? { kind: "fatal", cause: answer } : { kind: "retry", cause: answer },
        answer,
      };
    }
  }

  /** Connects, greets, upgrades and logs in, as a delivery would; sends nothing. */
  async health(): Promise<SinkHealth> {
    try {
      await this.mailer.verify();
      return { ok: true, detail: `${this.config.host}:${this.config.port} accepts this sender` };
    } catch (err) {
      return { ok: false, detail: causeOf(err) };
    }
  }

  async close(): Promise<void> {
    this.mailer.close();
  }
}
