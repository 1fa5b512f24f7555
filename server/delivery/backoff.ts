/** Exponential backoff with jitter: attempt n waits about initial * 2^(n-1), capped, times 0.5 to 1. */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp * (0.5 + random() / 2)); // jitter spreads retries of many nodes apart
}
