/** Debian's Chromium driven by playwright-core (no browser download), with flags that suit a closed sandbox. */
import { chromium, type Browser } from "playwright-core";
import { requireCommand } from "./system-package.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireCommand(CHROMIUM, "chromium"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
