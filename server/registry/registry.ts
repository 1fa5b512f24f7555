/**
 * The registry of accounts, trackers and vendors (the "Platform"): stored in LMDB, seeded from
 * the config file, editable from the admin page, and cached in memory so the collect route's
 * lookups cost a few Set checks.
 */
import type { RegistryConfig } from "../config/schema.ts";
import type { RegistryFlags } from "../events/event.model.ts";
import { parsePathId } from "../events/ids.ts";
import type { Account, RegistryTables, Tracker, Vendor } from "./registry.model.ts";
import { suggestPairs, type Suggestion } from "./suggest.ts";

const pair = (accountId: string, trackerId: string) => `${accountId}/${trackerId}`;
const vendorKey = (name: string) => name.trim().toLowerCase();
/** IDs are normalized like path IDs so "ABC..." in a file matches "abc..." in a URL. */
const normalizeId = (raw: string) => parsePathId(raw) ?? raw;

export class Registry {
  private readonly accounts = new Map<string, Account>();
  private readonly trackers = new Map<string, Tracker>();
  private readonly vendors = new Map<string, Vendor>();

  constructor(
    private readonly store: RegistryTables | null,
    private readonly config: RegistryConfig,
  ) {
    if (store) {
      for (const { value } of store.accounts.getRange()) this.accounts.set(value.id, value);
      for (const { key, value } of store.trackers.getRange()) this.trackers.set(key, value);
      for (const { key, value } of store.vendors.getRange()) this.vendors.set(key, value);
    }
    // The config file seeds what the store does not have yet; edits made in the page win.
    for (const a of config.accounts)
      if (!this.accounts.has(normalizeId(a.id)))
        void this.putAccount({ ...a, id: normalizeId(a.id) });
    for (const t of config.trackers) {
      const tracker = { ...t, id: normalizeId(t.id), accountId: normalizeId(t.accountId) };
      if (!this.trackers.has(pair(tracker.accountId, tracker.id))) void this.putTracker(tracker);
    }
    for (const v of config.vendors)
      if (!this.vendors.has(vendorKey(v.name))) void this.putVendor(v);
  }

  get policy(): "accept" | "reject" {
    return this.config.unknownIds;
  }

  /** Whether the account, the tracker (under that account) and the vendor are registered. */
  lookup(accountId: string, trackerId: string, vendor: string | undefined): RegistryFlags {
    if (this.accounts.size === 0 && this.vendors.size === 0)
      return { account: false, tracker: false, vendor: false };
    return {
      account: this.accounts.has(accountId),
      tracker: this.trackers.has(pair(accountId, trackerId)),
      vendor: vendor !== undefined && this.vendors.has(vendorKey(vendor)),
    };
  }

  account(id: string): Account | undefined {
    return this.accounts.get(id);
  }

  tracker(accountId: string, trackerId: string): Tracker | undefined {
    return this.trackers.get(pair(accountId, trackerId));
  }

  /** Accounts that have a tracker with this ID (to spot one registered under another account). */
  accountsWithTracker(trackerId: string): string[] {
    return [...this.trackers.values()].filter((t) => t.id === trackerId).map((t) => t.accountId);
  }

  list(): { accounts: Account[]; trackers: Tracker[]; vendors: Vendor[] } {
    const byId = (a: { id: string }, b: { id: string }) =>
      a.id.localeCompare(b.id, "en", { numeric: true });
    return {
      accounts: [...this.accounts.values()].sort(byId),
      trackers: [...this.trackers.values()].sort(
        (a, b) => byId({ id: a.accountId }, { id: b.accountId }) || byId(a, b),
      ),
      vendors: [...this.vendors.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** Nearest registered pairs to an unregistered one. */
  suggest(accountId: string, trackerId: string): Suggestion[] {
    return suggestPairs(
      accountId,
      trackerId,
      [...this.trackers.values()].map((t) => ({ accountId: t.accountId, trackerId: t.id })),
    );
  }

  async putAccount(account: Account): Promise<void> {
    this.accounts.set(account.id, account);
    await this.store?.accounts.put(account.id, account);
  }

  /** Removes an account and its trackers; false if it did not exist. */
  async deleteAccount(id: string): Promise<boolean> {
    if (!this.accounts.delete(id)) return false;
    const writes: Promise<unknown>[] = [this.store?.accounts.remove(id) ?? Promise.resolve()];
    for (const [key, t] of this.trackers)
      if (t.accountId === id) writes.push(this.removeTracker(key));
    await Promise.all(writes);
    return true;
  }

  async putTracker(tracker: Tracker): Promise<void> {
    const key = pair(tracker.accountId, tracker.id);
    this.trackers.set(key, tracker);
    await this.store?.trackers.put(key, tracker);
  }

  async deleteTracker(accountId: string, trackerId: string): Promise<boolean> {
    const key = pair(accountId, trackerId);
    if (!this.trackers.has(key)) return false;
    await this.removeTracker(key);
    return true;
  }

  async putVendor(vendor: Vendor): Promise<void> {
    this.vendors.set(vendorKey(vendor.name), vendor);
    await this.store?.vendors.put(vendorKey(vendor.name), vendor);
  }

  async deleteVendor(name: string): Promise<boolean> {
    const key = vendorKey(name);
    if (!this.vendors.delete(key)) return false;
    await this.store?.vendors.remove(key);
    return true;
  }

  private async removeTracker(key: string): Promise<void> {
    this.trackers.delete(key);
    await this.store?.trackers.remove(key);
  }
}
