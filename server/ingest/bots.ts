/**
 * Bots told apart from shoppers, never dropped: a browser event is flagged (context.bot) when
 * its browser says it is automated (the Web SDK sends `oa_webdriver=1` when
 * `navigator.webdriver` is true: Selenium, Playwright, Puppeteer), when its user agent is a
 * headless browser, or when it is on the `isbot` list of crawlers, link previewers and HTTP
 * libraries. A flagged event is stored with the reason and counted; unless `journey.includeBots`,
 * it links nothing (events/links.ts), so it is in no journey, visit, lead or attribution.
 *
 * Server events are not classified: they come from machines by design (a vendor's back end
 * posting with python-requests is no crawler), and only they can be leads.
 */
import { isbotMatch } from "isbot";
import type { EventContext } from "../events/event.model.ts";

export type Bot = NonNullable<EventContext["bot"]>;

/** The bot a browser request is, or undefined for a browser that looks like a shopper's. */
export function botOf(
  userAgent: string | null,
  webdriver: boolean,
  excluded: boolean,
): Bot | undefined {
  if (webdriver) return { reason: "webdriver", excluded };
  const match = userAgent === null ? null : isbotMatch(userAgent);
  if (match === null) return undefined;
  const reason = /headless/i.test(match) ? "headless" : "crawler";
  return { reason, match: match.slice(0, 100), excluded };
}
