/**
 * The request thread's side of the event writer: records appended in one event-loop turn go to
 * the writer thread as one message, and each append resolves once the writer reports the commit
 * that held it. Measured on the 2-core bench machine: lmdb-js puts cost ~6 µs of request-thread
 * CPU each, and commits of a few events each meant thousands of fsyncs a second; on the writer
 * thread the request thread pays only for a string copy, and a commit holds every waiting event.
 */
import { setImmediate } from "node:timers";
import type { RootDatabaseOptionsWithPath } from "lmdb";
import type {
  WriterDbNames,
  WriterMessage,
  WriterRecords,
  WriterReply,
} from "./writer-protocol.ts";

/**
 * Where the writer thread's code is: next to this file when run from source (Bun or Deno).
 * Bundled (the build's verified bundle, and the binaries compiled from it, whose module
 * paths are /$bunfs/... on Unix and B:/~BUN/... on Windows) it is one file: the writer
 * thread runs that file's own entry module, which starts the writer instead of the server
 * when it is not on the main thread (server/main.ts). (Bundling the worker as a second entrypoint produced a broken binary in
 * about one build in five: Bun 1.4.5 sometimes left lmdb's exports undefined.)
 */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("./writer-worker.ts", import.meta.url).href
  : import.meta.url;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventWriter {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private records: WriterRecords = [];
  private turnWaiters: Waiter[] = [];
  private readonly waiting: Waiter[][] = [];
  private seq = 0;
  private scheduled = false;
  private closed: Promise<void> | null = null;
  private broken: Error | null = null;
  private onClosed: (() => void) | null = null;

  /** `afterCommit` runs before any append of a commit resolves (the main thread renews its read snapshot there). */
  constructor(
    options: RootDatabaseOptionsWithPath,
    names: WriterDbNames,
    private readonly afterCommit: () => void,
  ) {
    // The worker keeps the process alive until close() ends it: Bun 1.4.5 busy-polls while a
    // promise waits on an unref'd worker (about 25 µs of CPU per event, measured).
    this.worker = new Worker(WORKER_URL, { type: "module" });
    let opened: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    this.ready.catch(() => {});
    this.worker.onmessage = (e: MessageEvent<WriterReply>) => {
      const reply = e.data;
      if (reply.kind === "opened") opened();
      else if (reply.kind === "closed") this.onClosed?.();
      else if (reply.kind === "failed" && reply.upTo === 0) failed(new Error(reply.error));
      else this.settle(reply.upTo, reply.kind === "failed" ? new Error(reply.error) : null);
    };
    // A writer thread that dies must fail its waiting appends (503), never leave them hanging.
    this.worker.onerror = (e) => {
      this.broken = new Error(`event writer failed: ${e.message}`);
      failed(this.broken);
      this.settle(Infinity, this.broken);
    };
    this.post({ kind: "open", options, names });
  }

  /** Resolves once the writer has opened the environment (rejects if it could not). */
  opened(): Promise<void> {
    return this.ready;
  }

  /**
   * Queues one event for the next commit. Records reach LMDB in the order of these calls, so
   * callers must make event IDs and call write() in the same synchronous step.
   */
  write(
    eventId: string,
    json: string,
    clientKey: string | null,
    accountId: string,
    shopperKey: string,
    links: string[],
  ): Promise<void> {
    if (this.closed || this.broken)
      return Promise.reject(this.broken ?? new Error("the event store is closed"));
    this.records.push(
      eventId,
      json,
      clientKey ?? "",
      accountId,
      shopperKey,
      String(links.length / 2),
      ...links,
    );
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
    return new Promise<void>((resolve, reject) =>
      this.turnWaiters.push({ seq: 0, resolve, reject }),
    );
  }

  /** Waits for every queued event to commit, then stops the writer thread. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.send();
    this.closed = new Promise<void>((resolve) => {
      this.onClosed = resolve;
      this.post({ kind: "close" });
    }).then(() => void this.worker.terminate());
    return this.closed;
  }

  private send(): void {
    this.scheduled = false;
    if (this.records.length === 0) return;
    const seq = ++this.seq;
    for (const w of this.turnWaiters) w.seq = seq;
    this.waiting.push(this.turnWaiters);
    this.post({ kind: "write", seq, records: this.records });
    this.records = [];
    this.turnWaiters = [];
  }

  private settle(upTo: number, error: Error | null): void {
    if (!error) this.afterCommit();
    while (this.waiting.length > 0 && this.waiting[0]![0]!.seq <= upTo)
      for (const w of this.waiting.shift()!) error ? w.reject(error) : w.resolve();
  }

  private post(message: WriterMessage): void {
    this.worker.postMessage(message);
  }
}
