/**
 * The admin page: Bun bundles ui/index.html (Preact, TSX, CSS) at build time and the bundle is
 * embedded in the binary. Kept out of createApp so in-process tests need no bundler. (A
 * beforeHandle hook covering /admin would make Elysia send the bundle as JSON: the auth hooks
 * stay on /admin/api.)
 */
import { Elysia } from "elysia";
import page from "../../ui/index.html";

/** GET /admin (the page) and a redirect from / to it. */
export function adminPageRoutes() {
  return new Elysia({ name: "admin-page" }).get("/admin", page).get("/", ({ redirect }) => redirect("/admin", 302));
}
