/**
 * A latency histogram cheap enough for the hot paths (a settle, a commit): a few compares and
 * three additions per observation, no labels, no allocation. The metrics endpoint reads it and
 * writes it out as a Prometheus histogram (ops/metrics.ts). Shared by the core and the stores,
 * so it lives beside neither.
 */

/** Upper bounds of the buckets in ms (Prometheus `le`, written in seconds); +Inf follows. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

export class LatencyBuckets {
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts = new Float64Array(LATENCY_BOUNDS_MS.length + 1);
  /** Sum of the observations, in ms. */
  sumMs = 0;
  count = 0;

  observe(ms: number): void {
    const bounds = LATENCY_BOUNDS_MS;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
    this.count++;
  }
}
