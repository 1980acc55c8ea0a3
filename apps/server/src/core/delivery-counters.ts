import type { DeliveryStats } from './scheduling-options.js';

/**
 * The operators' counters of outcomes that arrived but were not used (see DeliveryStats).
 * Whoever sees such an outcome calls {@link count}; nobody writes the numbers directly.
 */
export class DeliveryCounters {
  private readonly counts: DeliveryStats = {
    duplicates: 0,
    dropped: 0,
    forged: 0,
    sandboxFaults: 0,
    excludedWorkers: 0,
  };

  count(kind: keyof DeliveryStats): void {
    this.counts[kind]++;
  }

  /** A copy of the counts right now. */
  snapshot(): DeliveryStats {
    const c = this.counts;
    return {
      duplicates: c.duplicates,
      dropped: c.dropped,
      forged: c.forged,
      sandboxFaults: c.sandboxFaults,
      excludedWorkers: c.excludedWorkers,
    };
  }
}
