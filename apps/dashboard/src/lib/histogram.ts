/**
 * The per-task duration histogram as bars: labels for the server's logarithmic buckets, cut
 * to the range that holds tasks. Unit-tested in histogram.test.ts.
 */
import type { JobDetail } from '@tabgrid/protocol/dashboard';

export interface HistogramBars {
  labels: string[];
  counts: number[];
}

function bound(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** `< 1 ms`, `4–8 ms`, `512 ms–1 s`, `≥ 65.5 s` (the last bucket is open-ended). */
export function bucketLabel(bucketsMs: readonly number[], i: number): string {
  const upper = bucketsMs[i];
  const lower = i === 0 ? 0 : bucketsMs[i - 1];
  if (upper === undefined || lower === undefined) return '';
  if (i === bucketsMs.length - 1 && i > 0) return `≥ ${bound(lower)}`;
  if (lower === 0) return `< ${bound(upper)}`;
  const [lo, hi] = [bound(lower), bound(upper)];
  const unit = (s: string) => s.split(' ')[1];
  return unit(lo) === unit(hi) ? `${lo.split(' ')[0]}–${hi}` : `${lo}–${hi}`;
}

/** Bars from the first to the last non-empty bucket (at least `minBars` wide, when there are). */
export function histogramBars(durations: JobDetail['durations'], minBars = 5): HistogramBars {
  const { bucketsMs, counts } = durations;
  const used = counts.map((c, i) => (c > 0 ? i : -1)).filter((i) => i >= 0);
  if (used.length === 0) return { labels: [], counts: [] };
  let first = used[0]!;
  let last = used.at(-1)!;
  while (last - first + 1 < minBars && (first > 0 || last < counts.length - 1)) {
    if (last < counts.length - 1) last++;
    if (last - first + 1 < minBars && first > 0) first--;
  }
  const labels: string[] = [];
  const bars: number[] = [];
  for (let i = first; i <= last; i++) {
    labels.push(bucketLabel(bucketsMs, i));
    bars.push(counts[i] ?? 0);
  }
  return { labels, counts: bars };
}

/** The bucket holding quantile `q` (0..1) of the tasks, as its label; undefined when empty. */
export function quantileBucket(durations: JobDetail['durations'], q: number): string | undefined {
  const total = durations.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < durations.counts.length; i++) {
    seen += durations.counts[i]!;
    if (seen >= q * total) return bucketLabel(durations.bucketsMs, i);
  }
  return undefined;
}
