/**
 * The admin page: Bun bundles ui/index.html (Preact, TSX, CSS) at build time and the bundle is
 * embedded in the binary. Kept out of createApp so in-process tests need no bundler.
 */
import { Elysia } from "elysia";
import page from "../../ui/index.html";

/**
 * The page, for Bun's router (runtime/bun.ts): Elysia serves such a bundle natively only while
 * the app has no onRequest hook, and the admin guard is one (otherwise it sends the bundle as JSON).
 */
export const adminPageBundle = page;

/** A redirect from / to the page. */
export function adminPageRoutes() {
  return new Elysia({ name: "admin-page" }).get("/", ({ redirect }) => redirect("/admin", 302));
}
