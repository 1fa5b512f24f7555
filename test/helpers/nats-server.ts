/**
 * Runs a real `nats-server -js` on a free port with its store in a temp directory. A machine
 * without nats-server fails the test with how to install it: NATS tests never skip silently.
 */
import { rmSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { Subprocess } from "bun";
import { freePort, waitFor } from "./ports.ts";
import { requireCommand } from "./system-package.ts";
import { tempDir } from "./test-app.ts";

export interface NatsServer {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its store. */
  destroy(): Promise<void>;
  /** Messages in a stream, and a connection for inspecting it. */
  client(): Promise<NatsConnection>;
  streamMessages(stream: string): Promise<number>;
}

export function natsServerPath(): string {
  return requireCommand("nats-server", "nats-server");
}

export async function createNatsServer(): Promise<NatsServer> {
  const binary = natsServerPath();
  const port = await freePort();
  const storeDir = tempDir("trackd-nats-");
  let proc: Subprocess | null = null;
  const clients: NatsConnection[] = [];
  const server: NatsServer = {
    url: `127.0.0.1:${port}`,
    port,
    async start() {
      proc = Bun.spawn([binary, "-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
        stdout: "ignore",
        stderr: "ignore",
      });
      await waitFor("nats-server to accept connections", async () => {
        try {
          const nc = await connect({ servers: server.url, reconnect: false, timeout: 500 });
          await nc.close();
          return true;
        } catch {
          return false;
        }
      });
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGTERM");
      await proc.exited;
      proc = null;
    },
    async destroy() {
      for (const c of clients) await c.close().catch(() => {});
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
    async client() {
      const nc = await connect({ servers: server.url });
      clients.push(nc);
      return nc;
    },
    async streamMessages(stream) {
      const nc = await server.client();
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(stream)).state.messages;
    },
  };
  await server.start();
  return server;
}
