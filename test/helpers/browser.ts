/** Debian's Chromium driven by playwright-core (no browser download), with flags that suit a closed sandbox. */
import { spawnSync } from "node:child_process";
import { chromium, type Browser, type Page } from "playwright-core";
import { requireCommand } from "./system-package.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * A shopper's user agent for this Chromium: what a person's Chrome on Linux sends, where
 * headless Chromium would say "HeadlessChrome" (a bot, to trackd).
 */
function shopperUserAgent(executable: string): string {
  const out = spawnSync(executable, ["--version"], { encoding: "utf8" }).stdout ?? "";
  const version = /(\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "120.0.0.0";
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Safari/537.36`;
}

/**
 * Chromium as a shopper's browser (the default: a normal user agent, `navigator.webdriver`
 * false, as a person's browser has), or `as: "bot"`: headless Chromium as automation leaves
 * it (HeadlessChrome, `navigator.webdriver` true), which trackd flags as a bot.
 */
export async function launchBrowser(options: { as?: "shopper" | "bot" } = {}): Promise<Browser> {
  const executablePath = requireCommand(CHROMIUM, "chromium");
  const shopper =
    options.as === "bot"
      ? []
      : [
          "--disable-blink-features=AutomationControlled",
          `--user-agent=${shopperUserAgent(executablePath)}`,
        ];
  return chromium.launch({
    executablePath,
    args: [
      ...shopper,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Records what a page must never do: open a dialog (dismissed) or throw; console errors too,
 * except 401s (the admin page's session check before login). A test proves nothing ran by
 * finding both lists empty.
 */
export function watchPage(page: Page): { dialogs: string[]; errors: string[] } {
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on(
    "console",
    (m) => m.type() === "error" && !m.text().includes("401") && errors.push(m.text()),
  );
  return { dialogs, errors };
}

/**
 * A page of `width` px logged in to the admin page at `base` with `token` (the admin token or
 * a credential's), once the navigation shows `landing` (the Overview, for the owner).
 */
export async function loggedInPage(
  browser: Browser,
  base: string,
  token: string,
  width: number,
  landing = "Overview",
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${base}/admin`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("link", { name: landing }).first().waitFor();
  return page;
}
