/** The registry's entries: accounts (dealerships and vendors), their trackers, vendors and their products. */
import type { IpPolicy } from "../config/schema.ts";

export interface Account {
  id: string;
  name: string;
  type: "dealership" | "vendor";
  /**
   * Placeholder values this account's forms and vendors send (a staff test email, the
   * showroom's phone, a user ID of "guest"): like the built-in list, they never link shoppers
   * (journey/junk-identifiers.ts). Raw values; emails and phones are compared by their hashes.
   */
  junkIdentifiers?: string[];
}

/**
 * How a tracker's server-side events prove their sender (ingest/server-auth.ts): not at all,
 * by an HMAC signature of the body (`X-Trackd-Signature`), or by a secret as a bearer token.
 */
export type ServerAuth = "none" | "hmac" | "bearer";

/** What becomes of a server event that does not prove its sender: refused, or stored flagged. */
export type UnverifiedPolicy = "refuse" | "flag";

export interface Tracker {
  id: string;
  accountId: string;
  name: string;
  allowedOrigins: string[];
  /** Absent: "none". */
  serverAuth?: ServerAuth;
  /** Absent: "refuse". */
  unverified?: UnverifiedPolicy;
  /** What is kept of its clients' addresses; absent: pii.ip. */
  ip?: IpPolicy;
}

export interface Vendor {
  name: string;
  products: string[];
}

/** Where entries are kept, one table per kind (store/registry-store.ts, in LMDB). */
export interface RegistryTable<T> {
  getRange(): Iterable<{ key: string; value: T }>;
  put(key: string, value: T): Promise<unknown>;
  remove(key: string): Promise<unknown>;
}

export interface RegistryTables {
  accounts: RegistryTable<Account>;
  trackers: RegistryTable<Tracker>;
  vendors: RegistryTable<Vendor>;
}
