/**
 * NDJSON files of the internal event format: `events-YYYY-MM-DD-NNNN.ndjson`, a new file each
 * UTC day and whenever the current one would pass `maxFileBytes`. A batch counts as delivered
 * only after it is written and fdatasync'd. A line torn by a crash is cut off at the next
 * start: it was never acknowledged, so delivery sends it again.
 *
 * An erasure record (sinks/erasure-record.ts) is written like any event, and then the events
 * it names are deleted from every file here: each file that has one is written again without
 * it, to a temporary file that is synced and renamed over the old one.
 */
import { Buffer } from "node:buffer";
import { mkdirSync, readdirSync } from "node:fs";
import {
  open,
  readFile,
  rename,
  stat,
  statfs,
  truncate,
  writeFile,
  type FileHandle,
} from "node:fs/promises";
import { join } from "node:path";
import { erasedBy } from "../erasure-record.ts";
import { ndjson } from "../ndjson.ts";
import {
  causeOf,
  OK,
  type DeliveryItem,
  type SendResult,
  type Sink,
  type SinkHealth,
} from "../types.ts";

const FILE = /^events-(\d{4}-\d{2}-\d{2})-(\d{4})\.ndjson$/;

export interface FileSinkOptions {
  name: string;
  dir: string;
  maxFileBytes: number;
  /** The batch waits (retry) while the disk would be left with less free space than this. */
  minFreeBytes?: number;
  now?: () => number;
}

export class FileSink implements Sink {
  readonly kind = "file";
  readonly name: string;
  private handle: FileHandle | null = null;
  private day = "";
  private seq = 0;
  private size = 0;
  private readonly now: () => number;

  constructor(private readonly options: FileSinkOptions) {
    this.name = options.name;
    this.now = options.now ?? Date.now;
  }

  /** The file currently written to (the health check names it). */
  get currentFile(): string | null {
    return this.handle ? join(this.options.dir, fileName(this.day, this.seq)) : null;
  }

  async send(batch: DeliveryItem[]): Promise<SendResult> {
    const data = Buffer.from(ndjson(batch));
    try {
      await this.prepare(data.byteLength);
      const free = await this.freeBytes();
      if (free - data.byteLength < (this.options.minFreeBytes ?? 0))
        return {
          kind: "retry",
          cause: `disk nearly full: ${free} bytes free under ${this.options.dir} (minFreeBytes ${this.options.minFreeBytes})`,
        };
      await this.handle!.write(data);
      await this.handle!.datasync();
      this.size += data.byteLength;
      const erased = new Set(batch.flatMap((item) => erasedBy(item) ?? []));
      if (erased.size > 0) await this.erase(erased);
      return OK;
    } catch (err) {
      await this.reset();
      return { kind: "retry", cause: causeOf(err) };
    }
  }

  async health(): Promise<SinkHealth> {
    try {
      await this.prepare(0);
      await this.handle!.datasync();
      return { ok: true, detail: `writing ${this.currentFile}` };
    } catch (err) {
      await this.reset();
      return { ok: false, detail: causeOf(err) };
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  /**
   * Deletes these events from every file. A failure is a retry of the batch: the record is
   * written again (a second copy of it harms nothing) and the erasure is tried again.
   */
  private async erase(eventIds: ReadonlySet<string>): Promise<void> {
    await this.reset(); // the current file may be rewritten: opened again by the next batch
    for (const name of readdirSync(this.options.dir)) {
      if (!FILE.test(name)) continue;
      const path = join(this.options.dir, name);
      const lines = (await readFile(path, "utf8")).split("\n");
      const kept = lines.filter((line) => line === "" || !eventIds.has(eventIdOf(line)));
      if (kept.length === lines.length) continue;
      const temp = join(this.options.dir, `.${name}.erasing`);
      await writeFile(temp, kept.join("\n"), { flush: true });
      await rename(temp, path);
    }
    await syncDir(this.options.dir);
  }

  /** Free bytes on the files' disk (for an unprivileged user); Infinity without a margin. */
  private async freeBytes(): Promise<number> {
    if (!this.options.minFreeBytes) return Infinity;
    const s = await statfs(this.options.dir); // prepare() has made the directory
    return s.bavail * s.bsize;
  }

  /** Opens the right file for today, rotating by day and size. */
  private async prepare(incoming: number): Promise<void> {
    const today = new Date(this.now()).toISOString().slice(0, 10);
    if (
      this.handle &&
      this.day === today &&
      (this.size === 0 || this.size + incoming <= this.options.maxFileBytes)
    )
      return;
    if (this.handle && this.day === today) {
      await this.reset();
      this.seq++;
      return this.openFile(today, this.seq);
    }
    await this.reset();
    mkdirSync(this.options.dir, { recursive: true });
    const existing = readdirSync(this.options.dir)
      .map((f) => FILE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === today)
      .map((m) => Number(m[2]));
    return this.openFile(today, existing.length ? Math.max(...existing) : 0);
  }

  private async openFile(day: string, seq: number): Promise<void> {
    const path = join(this.options.dir, fileName(day, seq));
    await cutTornTail(path);
    this.handle = await open(path, "a");
    this.day = day;
    this.seq = seq;
    this.size = (await this.handle.stat()).size;
  }

  private async reset(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
  }
}

function fileName(day: string, seq: number): string {
  return `events-${day}-${String(seq).padStart(4, "0")}.ndjson`;
}

/** Truncates a file after its last newline (a partial line left by a crash). */
async function cutTornTail(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return; // no file yet
  }
  if (size === 0) return;
  const fh = await open(path, "r");
  try {
    const tail = Buffer.alloc(Math.min(size, 1 << 20));
    await fh.read(tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === 0x0a) return;
    const lastNewline = tail.lastIndexOf(0x0a);
    await truncate(
      path,
      lastNewline < 0 ? size - tail.length : size - tail.length + lastNewline + 1,
    );
  } finally {
    await fh.close();
  }
}

/** The event ID of one line: every stored event's JSON begins with it (event.model.ts). */
function eventIdOf(line: string): string {
  const prefix = '{"eventId":"';
  if (line.startsWith(prefix)) return line.slice(prefix.length, prefix.length + 36);
  try {
    return String((JSON.parse(line) as { eventId?: unknown }).eventId ?? "");
  } catch {
    return "";
  }
}

/** Makes a directory's entries (a rename) durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
