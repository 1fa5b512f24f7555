/** nginx from Debian's package, running docs/nginx-trackd.conf as it is, in front of a trackd. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { makeCertificate } from "./certificate.ts";
import { freePort } from "./ports.ts";
import { requireCommand } from "./system-package.ts";
import { tempDir } from "./test-app.ts";

const CONFIG = join(import.meta.dir, "../../docs/nginx-trackd.conf");

export interface Nginx {
  /** The TLS port nginx listens on (127.0.0.1), for server name trackd.example.com. */
  port: number;
  proc: Subprocess;
  stop(): void;
}

/** Starts nginx with the documented site config, a fresh certificate, and trackd's port as upstream. */
export async function startNginx(trackdPort: number): Promise<Nginx> {
  const nginxBin = requireCommand("nginx", "nginx");
  const home = tempDir("trackd-nginx-");
  const { cert, key } = makeCertificate(home, "trackd", "trackd.example.com");
  const port = await freePort();
  const site = readFileSync(CONFIG, "utf8")
    .replace("server 127.0.0.1:8080;", `server 127.0.0.1:${trackdPort};`)
    .replace("listen 443 ssl;", `listen 127.0.0.1:${port} ssl;`)
    .replace("/etc/ssl/trackd/fullchain.pem", cert)
    .replace("/etc/ssl/trackd/privkey.pem", key);
  writeFileSync(join(home, "trackd.conf"), site);
  writeFileSync(
    join(home, "nginx.conf"),
    `pid ${home}/nginx.pid;\nerror_log stderr warn;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${home}/body;\n  proxy_temp_path ${home}/proxy;\n  include ${home}/trackd.conf;\n}\n`,
  );
  const proc = Bun.spawn(
    [nginxBin, "-p", home, "-c", join(home, "nginx.conf"), "-g", "daemon off;"],
    { stdout: "ignore", stderr: "pipe" },
  );
  return { port, proc, stop: () => proc.kill() };
}
