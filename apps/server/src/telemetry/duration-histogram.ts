/** Upper bounds (ms) of the buckets: powers of two from 1 ms to about 65 s; the last is open. */
const BOUNDS = Array.from({ length: 17 }, (_, i) => 2 ** i);

/** Counts task compute times in logarithmic buckets: constant memory whatever the job size. */
export class DurationHistogram {
  readonly counts = new Array<number>(BOUNDS.length + 1).fill(0);

  add(ms: number): void {
    let bucket = 0;
    while (bucket < BOUNDS.length && ms >= BOUNDS[bucket]!) bucket++;
    this.counts[bucket]!++;
  }

  snapshot(): { bucketsMs: number[]; counts: number[] } {
    return { bucketsMs: [...BOUNDS, Number.MAX_SAFE_INTEGER], counts: [...this.counts] };
  }
}
