/**
 * Rolling time series kept in the browser: the grid's samples and each job's throughput,
 * recorded from the pushes. The server's 15-minute history seeds the grid's series and the
 * watched job's on every (re)subscription; other jobs' series start when the page opened.
 * Pure functions: unit-tested in history.test.ts.
 */
import type { JobStats } from '@tabgrid/protocol/dashboard';
import type { RatePoint } from './eta.js';

export const HISTORY_MS = 15 * 60_000;

/** `samples` plus `sample` (if newer than the last), without points older than `windowMs`. */
export function appendSample<T extends { at: number }>(
  samples: readonly T[],
  sample: T,
  windowMs = HISTORY_MS,
): T[] {
  const last = samples.at(-1);
  const next = last && sample.at <= last.at ? [...samples] : [...samples, sample];
  const newest = next.at(-1)?.at ?? sample.at;
  const first = next.findIndex((s) => s.at > newest - windowMs);
  return first <= 0 ? next : next.slice(first);
}

/** The server's history, sorted and trimmed (it is authoritative on every (re)subscription). */
export function seedSamples<T extends { at: number }>(
  samples: readonly T[],
  windowMs = HISTORY_MS,
): T[] {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const newest = sorted.at(-1)?.at ?? 0;
  return sorted.filter((s) => s.at > newest - windowMs);
}

/** Each job's rate series with this push's point added; jobs no longer listed are dropped. */
export function recordJobRates(
  series: ReadonlyMap<string, readonly RatePoint[]>,
  jobs: readonly JobStats[],
  at: number,
  windowMs = HISTORY_MS,
): Map<string, RatePoint[]> {
  const next = new Map<string, RatePoint[]>();
  for (const job of jobs) {
    next.set(
      job.id,
      appendSample(series.get(job.id) ?? [], { at, tasksPerSecond: job.tasksPerSecond }, windowMs),
    );
  }
  return next;
}
