/** The registry's persistence: accounts, trackers and vendors in LMDB. */
import type { Database, RootDatabase } from "lmdb";
import type { Account, Tracker, Vendor } from "../registry/registry.model.ts";

export class RegistryStore {
  readonly accounts: Database<Account, string>;
  /** Keyed by "accountId/trackerId". */
  readonly trackers: Database<Tracker, string>;
  /** Keyed by the lowercase name. */
  readonly vendors: Database<Vendor, string>;

  constructor(root: RootDatabase) {
    this.accounts = root.openDB({ name: "registry-accounts" });
    this.trackers = root.openDB({ name: "registry-trackers" });
    this.vendors = root.openDB({ name: "registry-vendors" });
  }

  get databases(): Database<unknown, string>[] {
    return [this.accounts, this.trackers, this.vendors] as Database<unknown, string>[];
  }
}
