/**
 * Identifiers erased on request (journey/erasure.ts) that later events must not link again.
 * Each is kept as its account and a keyed hash (HMAC-SHA256 under `suppression.key` beside
 * the store), so the list itself names nobody and cannot be tested against a guessed e-mail
 * without the key.
 * An erasure for every account is kept under "*" and so covers accounts made later too.
 *
 * The event writer applies the list to each event before storing it: a suppressed
 * identifier's field is left out, no link is written for it, and the event's customer (if
 * any) is neither sealed nor marked; the event says `context.suppressed`.
 */
import { createHmac } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { readOrCreateSecret } from "../auth/key-file.ts";
import type { TrackedEvent } from "../events/event.model.ts";
import { carriedIdentifiers, type LinkKind, linksOf } from "../events/links.ts";

/** The key file's name in the data directory (backup copies it). */
export const SUPPRESSION_KEY_FILE = "suppression.key";

/** Stands for every account in a suppression. */
export const EVERY_ACCOUNT = "*";

export interface Suppression {
  /** The account, or EVERY_ACCOUNT. */
  accountId: string;
  kind: LinkKind;
  value: string;
}

/** What is kept per suppressed identifier (under its keyed hash): when, and by which erasure. */
interface SuppressionRecord {
  at: string;
  operationId: string;
}

export class Suppressions {
  private readonly db: Database<SuppressionRecord, string>;
  private readonly key: string;
  /** Every keyed hash, in memory: the writer checks each event's links against it. */
  private readonly digests = new Set<string>();

  constructor(root: RootDatabase, keyFile: string) {
    this.db = root.openDB({ name: "suppressions" });
    this.key = readOrCreateSecret(keyFile).secret;
    for (const key of this.db.getKeys()) this.digests.add(key);
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** The identifier's keyed hash: one per identifier, whatever the account (half the work). */
  private digest(kind: string, value: string): string {
    // Hashed identifiers are indexed lower case (links.ts): suppressed the same way.
    const v = kind === "email" || kind === "phone" ? value.toLowerCase() : value;
    return createHmac("sha256", this.key).update(`${kind}\u0000${v}`).digest("hex");
  }

  /** True if later events in `accountId` must not link (kind, value). */
  has(accountId: string, kind: string, value: string): boolean {
    if (this.digests.size === 0) return false;
    const digest = this.digest(kind, value);
    return (
      this.digests.has(`${accountId}/${digest}`) || this.digests.has(`${EVERY_ACCOUNT}/${digest}`)
    );
  }

  /**
   * Queues the suppressions' puts: call inside the erasure's batch. They apply at once (an
   * event stored while the batch commits is suppressed too). Returns the ones that are new,
   * for `withdraw` if the batch fails.
   */
  add(entries: Suppression[], record: SuppressionRecord): string[] {
    const added: string[] = [];
    for (const { accountId, kind, value } of entries) {
      // "/" parts them: no account ID holds one (a path segment). Not NUL: lmdb-js stores a
      // string key with NUL apart from its plain bytes past about 64 characters.
      const key = `${accountId}/${this.digest(kind, value)}`;
      this.db.put(key, record);
      if (this.digests.has(key)) continue;
      this.digests.add(key);
      added.push(key);
    }
    return added;
  }

  /** Takes back suppressions `add` made whose batch failed: they were never stored. */
  withdraw(added: string[]): void {
    for (const key of added) this.digests.delete(key);
  }

  /** How many identifiers are suppressed. */
  count(): number {
    return this.digests.size;
  }

  /**
   * The links to write for `event`, leaving out suppressed ones; a suppressed identifier's
   * field and the event's customer marker are taken out of the event (before it is stored).
   * `dropCustomer` is true if the event's customer must not be sealed either.
   */
  apply(event: TrackedEvent): { links: string[]; dropCustomer: boolean } {
    const links = linksOf(event);
    if (this.digests.size === 0) return { links, dropCustomer: false };
    const kept: string[] = [];
    let suppressed = false;
    for (let i = 0; i < links.length; i += 2) {
      if (this.has(event.accountId, links[i]!, links[i + 1]!)) suppressed = true;
      else kept.push(links[i]!, links[i + 1]!);
    }
    if (!suppressed) return { links, dropCustomer: false };
    for (const { field, kind, value } of carriedIdentifiers(event))
      if (this.has(event.accountId, kind, value)) delete event.properties[field];
    delete event.properties.customer;
    event.context.suppressed = true;
    return { links: kept, dropCustomer: true };
  }
}
