/** Time-left estimates for jobs. Pure functions: unit-tested in eta.test.ts. */
import type { RateSample } from '@tabgrid/protocol/dashboard';
import type { JobInfo } from '@tabgrid/protocol/jobs';

/** One second of a job's (or the grid's) throughput: the protocol's sample. */
export type RatePoint = RateSample;

type Counters = Pick<JobInfo, 'state' | 'total' | 'finished' | 'failed'>;

/** Tasks not yet settled. */
export function remainingTasks(job: Counters): number {
  return Math.max(0, job.total - job.finished - job.failed);
}

/**
 * Mean throughput over the last `windowMs` of `points` (oldest first). One-second samples
 * are noisy (a batch lands in one second, none in the next): the mean is what an ETA needs.
 */
export function recentRate(points: readonly RatePoint[], windowMs = 20_000): number {
  const last = points.at(-1);
  if (!last) return 0;
  let sum = 0;
  let n = 0;
  for (let i = points.length - 1; i >= 0; i--) {
    const point = points[i]!;
    if (point.at <= last.at - windowMs) break;
    sum += point.tasksPerSecond;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** A job's current tasks/s: the recent mean while it runs, 0 once it has stopped. */
export function currentRate(job: Counters, points: readonly RatePoint[]): number {
  return job.state === 'open' || job.state === 'closed' ? recentRate(points, 10_000) : 0;
}

/** Settled tasks per second over the job's life (creation to last change). */
export function lifetimeRate(job: Counters & Pick<JobInfo, 'created' | 'modified'>): number {
  const seconds = (Date.parse(job.modified) - Date.parse(job.created)) / 1000;
  return seconds > 0 ? (job.finished + job.failed) / seconds : 0;
}

/**
 * Milliseconds until every task submitted so far has settled, at `rate` tasks/s; `undefined`
 * when there is nothing to estimate (finished, cancelled, nothing left, or no progress).
 */
export function estimateEtaMs(job: Counters, rate: number): number | undefined {
  if (job.state === 'done' || job.state === 'cancelled') return undefined;
  const remaining = remainingTasks(job);
  if (remaining === 0 || !(rate > 0)) return undefined;
  return (remaining / rate) * 1000;
}

/** Why there is no ETA, for the table cell. */
export function etaPlaceholder(job: Counters): string {
  switch (job.state) {
    case 'done':
      return 'done';
    case 'cancelled':
      return '—';
    case 'open':
    case 'closed':
      return remainingTasks(job) === 0 ? 'waiting for tasks' : 'stalled';
  }
}
