/** First reconnect delay; doubles per failed attempt. */
export const BACKOFF_BASE_MS = 500;
/** Longest reconnect delay. */
export const BACKOFF_MAX_MS = 15_000;

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so a server restart is not met by every tab at the same instant.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
