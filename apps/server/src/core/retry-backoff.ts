/** The retry backoff: 100 ms, doubling per retry, capped at 30 s, each ×0.5–1.5. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 30_000;

/** How long the `retries`-th retry of a task whose Run threw waits; `random` in [0, 1). */
export function retryDelayMs(retries: number, random: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retries) * (0.5 + random);
}
