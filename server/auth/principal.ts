/**
 * Who an admin request acts as, once the gate has let it in (http/admin-auth.ts): the owner
 * (the first-run admin token, or a session made with it), or a named credential with a role
 * and the accounts it may see.
 *
 * - admin: reads and changes, within its accounts; one for every account may also manage
 *   credentials, vendors and delivery, which belong to no account.
 * - read: reads only (GET), within its accounts.
 * - export: fetches exports only (the leads and conversion files), for its accounts.
 */
export type Role = "admin" | "read" | "export";

export interface Principal {
  /** "owner", or the credential's ID. */
  id: string;
  name: string;
  role: Role;
  /** The accounts it may see; null: every account. */
  accounts: ReadonlySet<string> | null;
}

export const OWNER: Principal = { id: "owner", name: "owner", role: "admin", accounts: null };

/** True if the principal may see this account. */
export const allowsAccount = (p: Principal, accountId: string): boolean =>
  p.accounts === null || p.accounts.has(accountId);

/** True for the owner and admin credentials for every account: they may touch what no account owns. */
export const isUnscopedAdmin = (p: Principal): boolean => p.role === "admin" && p.accounts === null;
