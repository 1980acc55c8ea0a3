/**
 * The Workers page's CPU and memory charts from the monitor (`GET /api/workers`): each worker's
 * samples put on one shared time axis (5-second buckets, the tabs' sampling period), a line per
 * worker up to 20, else min/mean/max over the workers per bucket. Pure: worker-series.test.ts.
 */

/** The fields of a monitor sample this module reads. */
export interface MonitorSample {
  /** Epoch ms, or an ISO date. */
  at: number | string;
  /** 0..1 of the worker's threads. */
  cpu: number;
  heapUsed: number | null;
}

export interface MonitoredWorker {
  workerId: string;
  samples: readonly MonitorSample[];
}

export const BUCKET_MS = 5_000;
export const MAX_WORKER_LINES = 20;

export type Metric = 'cpu' | 'heap';

export type WorkerPlot =
  | { mode: 'lines'; xs: number[]; lines: { workerId: string; values: (number | null)[] }[] }
  | {
      mode: 'bands';
      xs: number[];
      min: (number | null)[];
      mean: (number | null)[];
      max: (number | null)[];
    };

export function sampleMs(at: number | string): number {
  return typeof at === 'number' ? at : Date.parse(at);
}

/** CPU in percent (0–100), heap in bytes; null where the browser does not expose it. */
function valueOf(sample: MonitorSample, metric: Metric): number | null {
  if (metric === 'heap') return sample.heapUsed;
  return Number.isFinite(sample.cpu) ? Math.min(100, Math.max(0, sample.cpu * 100)) : null;
}

/** Whether any worker reported its heap (Chromium's `performance.memory`). */
export function anyHeap(workers: readonly MonitoredWorker[]): boolean {
  return workers.some((w) => w.samples.some((s) => s.heapUsed !== null));
}

/** One metric of every worker on shared x values (epoch seconds, bucket starts, ascending). */
export function workerPlot(workers: readonly MonitoredWorker[], metric: Metric): WorkerPlot {
  // bucket (s) → per worker the bucket's last value
  const perWorker = workers.map((w) => {
    const byBucket = new Map<number, number>();
    for (const sample of w.samples) {
      const at = sampleMs(sample.at);
      const value = valueOf(sample, metric);
      if (!Number.isFinite(at) || value === null) continue;
      byBucket.set(Math.floor(at / BUCKET_MS) * (BUCKET_MS / 1000), value);
    }
    return { workerId: w.workerId, byBucket };
  });
  const buckets = new Set<number>();
  for (const w of perWorker) for (const x of w.byBucket.keys()) buckets.add(x);
  const xs = [...buckets].sort((a, b) => a - b);
  if (workers.length <= MAX_WORKER_LINES) {
    return {
      mode: 'lines',
      xs,
      lines: perWorker.map((w) => ({
        workerId: w.workerId,
        values: xs.map((x) => w.byBucket.get(x) ?? null),
      })),
    };
  }
  const min: (number | null)[] = [];
  const mean: (number | null)[] = [];
  const max: (number | null)[] = [];
  for (const x of xs) {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    let n = 0;
    for (const w of perWorker) {
      const v = w.byBucket.get(x);
      if (v === undefined) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
      n += 1;
    }
    min.push(n ? lo : null);
    mean.push(n ? sum / n : null);
    max.push(n ? hi : null);
  }
  return { mode: 'bands', xs, min, mean, max };
}
