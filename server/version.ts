/** trackd's version: package.json's, built into the binary. */
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
