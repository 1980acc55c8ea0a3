/**
 * What a job page plots of one collected series: step n is the n-th value a task collected under
 * the label. With few tasks each gets its own line; with more, one min/mean/max band per step,
 * so memory and drawing cost grow with the number of steps, never with the number of tasks.
 * Non-numeric values are counted and a few are kept to list. Pure: tested in series-bands.test.ts.
 */

/** Up to this many tasks, a line each; beyond it, the band. */
export const MAX_LINES = 20;
/** Steps plotted per task; later values are counted, not kept (a page should not hold 1e6 points). */
export const MAX_STEPS = 5_000;
/** Non-numeric values kept to show as examples. */
export const MAX_EXAMPLES = 10;
const EXAMPLE_CHARS = 200;

export interface SeriesExample {
  index: number;
  step: number;
  /** The value as JSON, cut to 200 characters. */
  text: string;
}

/** One task's line: its value at each step (null where it has none or it was not a number). */
export interface SeriesLine {
  index: number;
  values: (number | null)[];
}

export type SeriesPlot =
  | { mode: 'lines'; steps: number[]; lines: SeriesLine[] }
  | {
      mode: 'bands';
      steps: number[];
      min: (number | null)[];
      mean: (number | null)[];
      max: (number | null)[];
    };

export interface SeriesSummary {
  tasks: number;
  /** Values that were finite numbers (plotted). */
  numeric: number;
  /** Values that were anything else (listed). */
  other: number;
  /** Values beyond MAX_STEPS of their task (neither plotted nor listed). */
  beyondSteps: number;
  examples: SeriesExample[];
}

function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS - 1)}…` : text;
}

/** Collects a series' items (in seq order) into what the chart draws. */
export class SeriesBands {
  private readonly min: number[] = [];
  private readonly max: number[] = [];
  private readonly sum: number[] = [];
  private readonly count: number[] = [];
  /** Per-task values while there are at most MAX_LINES tasks; dropped when the band takes over. */
  private lines: Map<number, (number | null)[]> | undefined = new Map();
  private lastSeq = 0;
  private readonly summary: SeriesSummary = {
    tasks: 0,
    numeric: 0,
    other: 0,
    beyondSteps: 0,
    examples: [],
  };

  /**
   * Adds one settled task's values. An item at or below the last seq seen is a repeat (a
   * re-read from an older cursor) and is ignored, so each task counts once.
   */
  add(seq: number, index: number, values: readonly unknown[]): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    const summary = this.summary;
    summary.tasks += 1;
    if (this.lines && summary.tasks > MAX_LINES) this.lines = undefined;
    const kept = Math.min(values.length, MAX_STEPS);
    summary.beyondSteps += values.length - kept;
    const line: (number | null)[] | undefined = this.lines ? new Array(kept).fill(null) : undefined;
    this.addSteps(kept);
    for (let step = 0; step < kept; step++) {
      const value = values[step];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        summary.other += 1;
        if (summary.examples.length < MAX_EXAMPLES) {
          summary.examples.push({ index, step, text: describe(value) });
        }
        continue;
      }
      summary.numeric += 1;
      if (line) line[step] = value;
      this.count[step]! += 1;
      this.sum[step]! += value;
      if (value < this.min[step]!) this.min[step] = value;
      if (value > this.max[step]!) this.max[step] = value;
    }
    if (line && this.lines) this.lines.set(index, line);
  }

  /** Empty slots up to `steps` (a step only non-numeric values reached stays empty). */
  private addSteps(steps: number): void {
    while (this.count.length < steps) {
      this.min.push(Infinity);
      this.max.push(-Infinity);
      this.sum.push(0);
      this.count.push(0);
    }
  }

  get tasks(): number {
    return this.summary.tasks;
  }

  /** Counts and examples (a copy). */
  describe(): SeriesSummary {
    return { ...this.summary, examples: [...this.summary.examples] };
  }

  /** What to draw now: a line per task (in index order), or min/mean/max per step. */
  plot(): SeriesPlot {
    const stepCount = this.count.length;
    const steps = Array.from({ length: stepCount }, (_, i) => i);
    if (this.lines) {
      const lines = [...this.lines]
        .sort(([a], [b]) => a - b)
        .map(([index, values]) => ({
          index,
          values: Array.from({ length: stepCount }, (_, i) => values[i] ?? null),
        }));
      return { mode: 'lines', steps, lines };
    }
    const some = (i: number) => this.count[i]! > 0;
    return {
      mode: 'bands',
      steps,
      min: steps.map((i) => (some(i) ? this.min[i]! : null)),
      mean: steps.map((i) => (some(i) ? this.sum[i]! / this.count[i]! : null)),
      max: steps.map((i) => (some(i) ? this.max[i]! : null)),
    };
  }
}
