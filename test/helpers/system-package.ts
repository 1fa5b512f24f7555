/**
 * Tests that need a Debian package (nats-server, chromium) find it, or install it with
 * apt-get when running as root (as `.ci/run` would), or fail saying how to install it.
 * Never a silent skip.
 */
import { existsSync } from "node:fs";

const attempted = new Set<string>();

/** The path of `command` (searched on PATH and in the sbin directories), installing `pkg` if allowed. */
export function requireCommand(command: string, pkg: string): string {
  const find = () =>
    command.startsWith("/")
      ? existsSync(command)
        ? command
        : null
      : Bun.which(command, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin` });
  let path = find();
  if (!path && process.getuid?.() === 0 && !attempted.has(pkg)) {
    attempted.add(pkg);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(["apt-get", "install", "-y", "-qq", pkg], {
      env,
      stdout: "ignore",
      stderr: "ignore",
    });
    path = find();
  }
  if (!path)
    throw new Error(
      `${command} is not installed: run \`apt-get install -y ${pkg}\` (Debian's package; .ci/run installs it)`,
    );
  return path;
}
