/** The jobs table's rows and their sort orders. Pure functions: unit-tested in sort-jobs.test.ts. */
import type { JobStats } from '@tabgrid/protocol/dashboard';
import type { JobState } from '@tabgrid/protocol/jobs';
import { estimateEtaMs } from './eta.js';

export type SortKey = 'name' | 'state' | 'progress' | 'rate' | 'eta' | 'age';
export type SortDirection = 'asc' | 'desc';
export interface SortOrder {
  key: SortKey;
  direction: SortDirection;
}

export interface JobRow {
  job: JobStats;
  /** Smoothed tasks/s. */
  rate: number;
  etaMs: number | undefined;
  /** Settled share of the submitted tasks, 0..1. */
  progress: number;
}

/** Running jobs first, then finished, then cancelled. */
const STATE_RANK: Record<JobState, number> = { open: 0, closed: 1, done: 2, cancelled: 3 };

/** Newest first: what a person looking at the grid wants by default. */
export const DEFAULT_SORT: SortOrder = { key: 'age', direction: 'asc' };

export function toJobRow(job: JobStats, rate: number): JobRow {
  const settled = job.finished + job.failed;
  return {
    job,
    rate,
    etaMs: estimateEtaMs(job, rate),
    progress: job.total > 0 ? Math.min(1, settled / job.total) : 0,
  };
}

function compare(a: JobRow, b: JobRow, key: SortKey): number {
  switch (key) {
    case 'name':
      return a.job.name.localeCompare(b.job.name, undefined, { sensitivity: 'base' });
    case 'state':
      return STATE_RANK[a.job.state] - STATE_RANK[b.job.state];
    case 'progress':
      return a.progress - b.progress;
    case 'rate':
      return a.rate - b.rate;
    case 'eta':
      return (a.etaMs ?? 0) - (b.etaMs ?? 0);
    case 'age':
      // Ascending age = youngest first.
      return Date.parse(b.job.created) - Date.parse(a.job.created);
  }
}

/**
 * Sorted copy of `rows`. Rows without an ETA always go last (whatever the direction); ties
 * keep the newest job first so the order is stable between pushes.
 */
export function sortJobRows(rows: readonly JobRow[], order: SortOrder): JobRow[] {
  const sign = order.direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (order.key === 'eta' && (a.etaMs === undefined) !== (b.etaMs === undefined)) {
      return a.etaMs === undefined ? 1 : -1;
    }
    return (
      sign * compare(a, b, order.key) || compare(a, b, 'age') || a.job.id.localeCompare(b.job.id)
    );
  });
}

/** Clicking a header: the same column flips direction, a new one starts at its natural order. */
export function nextSort(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) {
    return { key, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  }
  const startsDescending = key === 'rate' || key === 'progress';
  return { key, direction: startsDescending ? 'desc' : 'asc' };
}
