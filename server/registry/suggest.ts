/**
 * "Did you mean": the registered ID pairs nearest to one that clients send but nobody
 * registered. Catches the usual slips: two digits swapped, a tracker registered under another
 * account, a mistyped digit (Damerau-Levenshtein distance up to 2).
 */

export interface Suggestion {
  accountId: string;
  trackerId: string;
  reason: string;
}

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 2) return 3; // callers only care up to 2
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * Where `a` is `b` with two neighbouring characters swapped (1010 for 1001), the first of the
 * two positions; otherwise -1.
 */
export function swappedAt(a: string, b: string): number {
  if (a.length !== b.length) return -1;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i >= a.length - 1 || a[i] !== b[i + 1] || a[i + 1] !== b[i]) return -1;
  return a.slice(i + 2) === b.slice(i + 2) ? i : -1;
}

/** "digits swapped" for 1010 vs 1001, "characters swapped" when either is not a digit. */
function swapWord(a: string, at: number): string {
  return /^\d\d$/.test(a.slice(at, at + 2)) ? "digits" : "characters";
}

/**
 * Up to `limit` registered pairs near (accountId, trackerId), best first. The ranking follows
 * the slips people make: two digits swapped in one ID, then the tracker under another
 * account, then any other one- or two-character difference.
 */
export function suggestPairs(
  accountId: string,
  trackerId: string,
  registered: { accountId: string; trackerId: string }[],
  limit = 3,
): Suggestion[] {
  const scored: (Suggestion & { score: number })[] = [];
  for (const r of registered) {
    if (r.accountId === accountId && r.trackerId === trackerId) continue;
    const swappedAccount = trackerId === r.trackerId ? swappedAt(accountId, r.accountId) : -1;
    const swappedTracker = accountId === r.accountId ? swappedAt(trackerId, r.trackerId) : -1;
    if (swappedAccount >= 0)
      scored.push({
        ...r,
        score: 0,
        reason: `${swapWord(accountId, swappedAccount)} swapped: account ${accountId} is probably ${r.accountId}`,
      });
    else if (swappedTracker >= 0)
      scored.push({
        ...r,
        score: 0,
        reason: `${swapWord(trackerId, swappedTracker)} swapped: tracker ${trackerId} is probably ${r.trackerId}`,
      });
    else {
      const da = editDistance(accountId, r.accountId);
      const dt = editDistance(trackerId, r.trackerId);
      if (dt === 0 && da > 0)
        scored.push({
          ...r,
          score: da <= 2 ? da : 2.5,
          reason: `tracker ${trackerId} is registered under account ${r.accountId}`,
        });
      else if (da === 0 && dt <= 2)
        scored.push({ ...r, score: dt, reason: `account ${accountId} has tracker ${r.trackerId}` });
      else if (da + dt <= 2)
        scored.push({
          ...r,
          score: da + dt + 0.5,
          reason: `a registered pair differs by ${da + dt} character${da + dt > 1 ? "s" : ""}`,
        });
    }
  }
  return scored
    .sort((x, y) => x.score - y.score)
    .slice(0, limit)
    .map(({ score: _score, ...s }) => s);
}
