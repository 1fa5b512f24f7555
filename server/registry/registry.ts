/**
 * The registry of accounts, trackers and vendors (the "Platform"), as seeded from the config
 * file. Lookups are O(1); the collect route uses them to flag or refuse unregistered IDs.
 */
import type { RegistryConfig } from "../config/schema.ts";
import type { RegistryFlags } from "../events/event.model.ts";
import { parsePathId } from "../events/ids.ts";

export class Registry {
  private readonly accounts = new Set<string>();
  private readonly trackers = new Set<string>();
  private readonly vendors = new Set<string>();

  constructor(readonly config: RegistryConfig) {
    // IDs are normalized like path IDs so "ABC..." in the file matches "abc..." in a URL.
    const id = (raw: string) => parsePathId(raw) ?? raw;
    for (const a of config.accounts) this.accounts.add(id(a.id));
    for (const t of config.trackers) this.trackers.add(`${id(t.accountId)}/${id(t.id)}`);
    for (const v of config.vendors) this.vendors.add(v.name.trim().toLowerCase());
  }

  get policy(): "accept" | "reject" {
    return this.config.unknownIds;
  }

  /** Whether the account, the tracker (under that account) and the vendor are registered. */
  lookup(accountId: string, trackerId: string, vendor: string | undefined): RegistryFlags {
    if (this.accounts.size === 0 && this.vendors.size === 0) return { account: false, tracker: false, vendor: false };
    return {
      account: this.accounts.has(accountId),
      tracker: this.trackers.has(`${accountId}/${trackerId}`),
      vendor: vendor !== undefined && this.vendors.has(vendor.trim().toLowerCase()),
    };
  }
}
