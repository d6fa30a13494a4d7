/**
 * Exponential backoff with full jitter (AWS architecture blog's recommendation): a random delay in
 * [0, min(max, base * 2^attempt)], so many laptops coming back online together do not retry in lock-step.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
