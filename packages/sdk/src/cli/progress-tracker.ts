/**
 * The numbers of a progress line: tasks settled and failed, the rate over the last seconds and
 * the time left at that rate. Pure: the clock is injected, so tests set the time.
 */

export interface ProgressSnapshot {
  /** Tasks settled so far (succeeded or failed). */
  settled: number;
  failed: number;
  /** All the tasks, once known (NDJSON from stdin: only at its end). */
  total: number | undefined;
  elapsedMs: number;
  /** Tasks per second over the last {@link RATE_WINDOW_MS} (undefined before a second passed). */
  rate: number | undefined;
  /** Time left at that rate, when the total is known and the rate is above zero. */
  etaMs: number | undefined;
}

/** The rate is measured over this much recent time, so it follows changes in the grid. */
export const RATE_WINDOW_MS = 10_000;
/** Samples are kept at most this often (a snapshot per redraw would keep thousands). */
const SAMPLE_EVERY_MS = 250;

/**
 * @example
 * const tracker = new ProgressTracker(() => Date.now());
 * tracker.record(10, 1, 100);
 * tracker.snapshot(); // { settled: 10, failed: 1, total: 100, rate: …, etaMs: … }
 */
export class ProgressTracker {
  private readonly started: number;
  private settled = 0;
  private failed = 0;
  private total: number | undefined;
  /** (time, settled) pairs, oldest first, covering about the rate window. */
  private readonly samples: { at: number; settled: number }[] = [];

  /** @param settledBefore tasks settled before watching began: not counted in the rate. */
  constructor(
    private readonly now: () => number,
    settledBefore = 0,
  ) {
    this.started = now();
    this.settled = settledBefore;
    this.samples.push({ at: this.started, settled: settledBefore });
  }

  /** The counts as they are now (absolute, not increments). */
  record(settled: number, failed: number, total?: number): void {
    this.settled = settled;
    this.failed = failed;
    if (total !== undefined) this.total = total;
  }

  snapshot(): ProgressSnapshot {
    const now = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && now - last.at >= SAMPLE_EVERY_MS)
      this.samples.push({ at: now, settled: this.settled });
    // Keep one sample at or before the window's start, so the window is always covered.
    while (this.samples.length > 2 && now - (this.samples[1]?.at ?? now) >= RATE_WINDOW_MS) {
      this.samples.shift();
    }
    const oldest = this.samples[0] ?? { at: this.started, settled: 0 };
    const span = now - oldest.at;
    const rate = span >= 1_000 ? ((this.settled - oldest.settled) * 1_000) / span : undefined;
    const left = this.total === undefined ? undefined : Math.max(0, this.total - this.settled);
    return {
      settled: this.settled,
      failed: this.failed,
      total: this.total,
      elapsedMs: now - this.started,
      rate,
      etaMs:
        left === undefined || rate === undefined
          ? undefined
          : left === 0
            ? 0
            : rate > 0
              ? (left * 1_000) / rate
              : undefined,
    };
  }
}
