/**
 * The audit of erasures (journey/erasure.ts): one entry per operation, by its ID, saying who
 * asked, when, for which accounts and kinds of identifier, and what went. Never the
 * identifiers themselves: the audit must not keep what it records the deletion of.
 */
import type { Database, RootDatabase } from "lmdb";

export interface ErasureCounts {
  events: number;
  links: number;
  visits: number;
  customers: number;
  leadDeliveries: number;
  deadLetters: number;
  rejects: number;
  accessLogEntries: number;
}

export interface ErasureAudit {
  operationId: string;
  at: string;
  /** The owner or the credential that asked. */
  by: { id: string; name: string };
  /** The accounts searched; null: every account. */
  accounts: string[] | null;
  /** The kinds of identifier asked for (email, phone, user, device, instance), not their values. */
  kinds: string[];
  counts: ErasureCounts;
  /** Identifiers now suppressed (the ones asked for and every one the search reached). */
  suppressed: number;
  /** True if a journey's bound stopped the search: more may be linked than was erased. */
  truncated: boolean;
  /** The erasure records written for sinks, one per account with events erased. */
  records: string[];
}

export class Erasures {
  private readonly db: Database<ErasureAudit, string>;

  constructor(root: RootDatabase) {
    this.db = root.openDB({ name: "erasures" });
  }

  get database(): Database<unknown, string> {
    return this.db as Database<unknown, string>;
  }

  /** Queues the entry's put: call inside the erasure's batch. */
  add(entry: ErasureAudit): void {
    this.db.put(entry.operationId, entry);
  }

  /** The newest first. */
  list(limit: number): ErasureAudit[] {
    return [...this.db.getRange({ reverse: true, limit })].map((e) => e.value);
  }
}
