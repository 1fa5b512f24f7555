/**
 * The seam between trackd and the runtime it runs on. Everything else (validation, the store,
 * delivery, the sinks, the Elysia app) uses web-standard and `node:` APIs that Bun and Deno
 * both have; what differs is how the app is served, how the admin page's prebuilt bundle is
 * found, and how a request's peer address is read. One implementation per runtime: bun.ts
 * (server/main.ts) and deno.ts (server/main-deno.ts).
 */
import type { AnyElysia } from "elysia";

/**
 * The transport's body cap: far above the event limits, because the collect route checks
 * Content-Length before reading and caps chunked bodies while streaming (read-body.ts), so
 * every oversized body gets the error envelope rather than the runtime's bare 413.
 */
export const TRANSPORT_BODY_CAP = 1024 ** 3;

export interface ServeOptions {
  hostname: string;
  port: number;
  /** Close connections idle (or stalled mid-request) this long; where the runtime allows. */
  idleTimeoutSeconds: number;
  /** The transport's body cap, far above the event limits (read-body.ts enforces those). */
  maxRequestBodySize: number;
  /** PEM certificate and key: the listener speaks HTTPS. */
  tls: { cert: string; key: string } | null;
}

export interface Listener {
  /** The port bound (the one asked for, or the one chosen for port 0). */
  port: number;
  /** Stops accepting; with `force`, also closes open connections. Resolves once stopped. */
  stop(force: boolean): Promise<void>;
  /**
   * Serves new connections with another certificate, on the same port; connections already
   * open finish on the old one. Throws (and keeps the old listener) if the new one cannot start.
   */
  reloadTls(tls: { cert: string; key: string }): Promise<void>;
}

export interface Runtime {
  name: "bun" | "deno";
  version: string;
  serve(app: AnyElysia, options: ServeOptions): Listener;
  /** The app with GET /admin (the page, its assets) and / redirecting to it. */
  withAdminPage(app: AnyElysia): AnyElysia;
  /** The address of the socket a request came in on, if the runtime says. */
  peerAddress(request: Request, server: unknown): string | null;
  /**
   * Takes an exclusive advisory lock (flock) on the file, created if need be, held until the
   * process ends (the kernel drops it then, whatever the end: kill -9 too). False if another
   * process holds it; null where the runtime cannot lock a file here (see store/data-dir-lock.ts).
   */
  tryLock(path: string): boolean | null;
}
