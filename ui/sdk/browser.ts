/** The Web SDK as a page runs it (/sdk.js): the entry point the build bundles. */
import { trackdSdk } from "./sdk.ts";

trackdSdk(window);
