/**
 * The admin page: Bun bundles ui/index.html (Preact, TSX, CSS) at build time and the bundle is
 * embedded in the binary. Kept out of createApp so in-process tests need no bundler.
 */
import { Elysia } from "elysia";
import page from "../../ui/index.html";

/** The page, for the Bun runtime (runtime/bun.ts), which serves it from Bun's router. */
export const adminPageBundle = page;

/** A redirect from / to the page. */
export function adminPageRoutes() {
  return new Elysia({ name: "admin-page" }).get("/", ({ redirect }) => redirect("/admin", 302));
}
