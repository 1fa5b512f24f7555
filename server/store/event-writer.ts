/**
 * A request thread's side of the event writer: records appended in one event-loop turn go to
 * the writer thread as one message, and each append resolves with the event's ID once the
 * writer reports the commit that held it. Measured on the 2-core bench machine: lmdb-js puts
 * cost ~6 µs of request-thread CPU each, and commits of a few events each meant thousands of
 * fsyncs a second; on the writer thread the request thread pays only for a string copy, and a
 * commit holds every waiting event.
 *
 * The main thread starts the writer (EventWriter.start); each request thread of `workers`
 * talks to the same writer through a port of its own (clientPort, then EventWriter.connect).
 */
import { setImmediate } from "node:timers";
import type { RootDatabaseOptionsWithPath } from "lmdb";
import {
  DUPLICATE_OF,
  type WriterDbNames,
  type WriterMessage,
  type WriterRecords,
  type WriterReply,
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

/** What became of an appended record. */
export interface Written {
  /** The stored event's ID; for a duplicate, the ID of the event stored under its client key. */
  eventId: string;
  duplicate: boolean;
}

interface Waiter {
  seq: number;
  resolve: (written: Written) => void;
  reject: (err: Error) => void;
}

/** The writer thread itself, or a port to it. */
type Channel = Pick<MessagePort, "postMessage" | "onmessage">;

export class EventWriter {
  private readonly ready: Promise<void>;
  private records: WriterRecords = [];
  private turnWaiters: Waiter[] = [];
  private readonly waiting: Waiter[][] = [];
  private seq = 0;
  private scheduled = false;
  private closed: Promise<void> | null = null;
  private broken: Error | null = null;
  private onClosed: (() => void) | null = null;
  /** The newest append, settled either way: commits answer in order, so all before it are too. */
  private last: Promise<unknown> = Promise.resolve();
  private opened_: () => void = () => {};
  private readonly failureListeners: ((error: Error) => void)[] = [];
  private failed_: (err: Error) => void = () => {};

  /** Starts the writer thread on the environment (the main thread does this once). */
  static start(
    options: RootDatabaseOptionsWithPath,
    names: WriterDbNames,
    dedupeWindowMs: number,
    afterCommit: () => void,
  ): EventWriter {
    // The worker keeps the process alive until close() ends it: Bun 1.4.5 busy-polls while a
    // promise waits on an unref'd worker (about 25 µs of CPU per event, measured).
    // Named, so that `top -H` and /proc/<pid>/task/*/comm tell the threads apart.
    const worker = new Worker(WORKER_URL, { type: "module", name: "trackd-writer" });
    const writer = new EventWriter(worker as unknown as Channel, afterCommit, worker);
    // A writer thread that dies must fail its waiting appends (503), never leave them hanging.
    worker.onerror = (e) => writer.fail(new Error(`event writer failed: ${e.message}`));
    writer.post({ kind: "open", options, names, dedupeWindowMs });
    return writer;
  }

  /** A request thread's writer on a port from clientPort(). */
  static connect(port: MessagePort, afterCommit: () => void): EventWriter {
    const writer = new EventWriter(port, afterCommit, null);
    writer.opened_();
    return writer;
  }

  private constructor(
    private readonly channel: Channel,
    /** Runs before any append of a commit resolves (the thread renews its read snapshot there). */
    private readonly afterCommit: () => void,
    private readonly worker: Worker | null,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.opened_ = resolve;
      this.failed_ = reject;
    });
    this.ready.catch(() => {});
    channel.onmessage = (e: MessageEvent<WriterReply>) => {
      const reply = e.data;
      if (reply.kind === "opened") this.opened_();
      else if (reply.kind === "closed") this.onClosed?.();
      else if (reply.kind === "failed" && reply.upTo === 0) this.failed_(new Error(reply.error));
      else if (reply.kind === "failed") this.settle(reply.upTo, new Error(reply.error), []);
      else this.settle(reply.upTo, null, reply.results);
    };
  }

  /** Resolves once the writer has opened the environment (rejects if it could not). */
  opened(): Promise<void> {
    return this.ready;
  }

  /** A port for another thread's EventWriter.connect (a request thread of `workers`). */
  clientPort(): MessagePort {
    const channel = new MessageChannel();
    this.worker!.postMessage({ kind: "client", port: channel.port1 } satisfies WriterMessage, [
      channel.port1,
    ]);
    return channel.port2;
  }

  /**
   * Queues one event for the next commit. `eventId` "" lets the writer make the ID (then
   * `json` must start with UNASSIGNED_ID); given, it is stored under it (tests, imports).
   * Resolves once committed with the stored ID, or, if the client key is stored already,
   * with that event's ID as a duplicate.
   */
  write(
    eventId: string,
    json: string,
    clientKey: string | null,
    accountId: string,
    shopperKey: string,
    receivedMs: number,
    links: string[],
  ): Promise<Written> {
    if (this.closed || this.broken)
      return Promise.reject(this.broken ?? new Error("the event store is closed"));
    this.records.push(
      eventId,
      json,
      clientKey ?? "",
      accountId,
      shopperKey,
      String(receivedMs),
      String(links.length / 2),
      ...links,
    );
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
    const written = new Promise<Written>((resolve, reject) =>
      this.turnWaiters.push({ seq: 0, resolve, reject }),
    );
    this.last = written.catch(() => {});
    return written;
  }

  /** Fails every waiting and later append (the writer thread is gone). */
  fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.failed_(error);
    this.settle(Infinity, error, []);
    for (const listener of this.failureListeners) listener(error);
  }

  /** Calls `listener` if the writer thread fails (the main thread tells the request threads). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Waits for every queued event to commit; the main thread's writer then stops the writer
   * thread (a request thread's only stops writing).
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.send();
    if (!this.worker) {
      this.closed = this.last.then(() => {});
      return this.closed;
    }
    this.closed = new Promise<void>((resolve) => {
      this.onClosed = resolve;
      this.post({ kind: "close" });
    }).then(() => void this.worker!.terminate());
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

  private settle(upTo: number, error: Error | null, results: string[]): void {
    if (!error) this.afterCommit();
    let r = 0;
    while (this.waiting.length > 0 && this.waiting[0]![0]!.seq <= upTo)
      for (const w of this.waiting.shift()!) {
        if (error) {
          w.reject(error);
          continue;
        }
        const result = results[r++]!;
        const duplicate = result.startsWith(DUPLICATE_OF);
        w.resolve({ eventId: duplicate ? result.slice(DUPLICATE_OF.length) : result, duplicate });
      }
  }

  private post(message: WriterMessage): void {
    this.channel.postMessage(message);
  }
}
