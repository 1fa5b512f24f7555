/**
 * Who the page acts as (GET /admin/api/session): the owner, or a named credential with its role
 * and accounts. The server decides every request; the page only keeps out of the way what a
 * credential may not open (pages of every account, changes a read credential cannot make).
 */
export interface Who {
  name: string;
  role: "admin" | "read" | "export";
  /** null: every account. */
  accounts: string[] | null;
}

let current: Who = { name: "owner", role: "admin", accounts: null };

export const setWho = (w: Who): void => {
  current = w;
};
/** The owner, or an admin credential for every account. */
export const isOwner = (w: Who = current): boolean => w.role === "admin" && w.accounts === null;
/** The account a credential limited to accounts starts with (its first), or "". */
export const ownAccount = (w: Who = current): string => w.accounts?.[0] ?? "";
