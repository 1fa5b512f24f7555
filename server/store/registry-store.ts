/** The registry's persistence: accounts, trackers and vendors in LMDB. */
import type { Database, RootDatabase } from "lmdb";

export interface Account {
  id: string;
  name: string;
  type: "dealership" | "vendor";
}

export interface Tracker {
  id: string;
  accountId: string;
  name: string;
  allowedOrigins: string[];
}

export interface Vendor {
  name: string;
  products: string[];
}

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
