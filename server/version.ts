/** trackd's version: package.json's, built into the binary. */
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/**
 * The first 12 hex digits of the SHA-256 of the bundle a binary was compiled from, with the
 * folder it was built in left out (the build sets it: scripts/build.ts), so two binaries, for
 * different machines or built in different folders, can be told to carry the same code;
 * "source" when run from source.
 */
export const BUILD: string =
  (globalThis as { TRACKD_BUNDLE?: string }).TRACKD_BUNDLE?.slice(0, 12) ?? "source";
