/** Every file under a directory as bytes, to grep a data directory for what must not be there. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The bytes of every file under `dir` (but those named in `skip`), as one latin1 string. */
export function filesUnder(dir: string, skip: string[] = []): string {
  let all = "";
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) all += filesUnder(path, skip);
    else if (!skip.includes(name)) all += readFileSync(path).toString("latin1");
  }
  return all;
}
