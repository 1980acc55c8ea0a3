/** Tasks per second over a sliding window of samples of a running total. */
export class ThroughputMeter {
  private readonly samples: { at: number; total: number }[] = [];

  constructor(private readonly windowMs = 3_000) {}

  /** Records the running total at time `at` (ms) and returns the current rate. */
  sample(at: number, total: number): number {
    this.samples.push({ at, total });
    while (this.samples.length > 2 && (this.samples[0]?.at ?? at) < at - this.windowMs) {
      this.samples.shift();
    }
    const oldest = this.samples[0];
    if (!oldest || at <= oldest.at) return 0;
    return ((total - oldest.total) * 1000) / (at - oldest.at);
  }

  reset(): void {
    this.samples.length = 0;
  }
}
