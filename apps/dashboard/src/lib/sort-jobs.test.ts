import { describe, expect, it } from 'vitest';
import type { JobStats } from '@tabgrid/protocol/dashboard';
import { nextSort, sortJobRows, toJobRow, type JobRow } from './sort-jobs.js';

// Only the fields sorting reads; the cast keeps the test independent of unrelated job options.
function job(over: Partial<JobStats>): JobStats {
  return {
    id: 'j',
    name: 'job',
    state: 'closed',
    total: 100,
    finished: 0,
    failed: 0,
    created: '2025-01-01T00:00:00.000Z',
    tasksPerSecond: 0,
    ...over,
  } as JobStats;
}

const rows: JobRow[] = [
  toJobRow(job({ id: 'a', name: 'beta', finished: 50, created: '2025-01-01T00:00:01Z' }), 10),
  toJobRow(
    job({ id: 'b', name: 'Alpha', state: 'done', finished: 100, created: '2025-01-01T00:00:03Z' }),
    0,
  ),
  toJobRow(
    job({ id: 'c', name: 'gamma', state: 'open', finished: 10, created: '2025-01-01T00:00:02Z' }),
    90,
  ),
];
const ids = (sorted: JobRow[]) => sorted.map((r) => r.job.id).join('');

describe('toJobRow', () => {
  it('computes progress from finished and failed, and the ETA from the rate', () => {
    const row = toJobRow(job({ finished: 30, failed: 20 }), 25);
    expect(row.progress).toBe(0.5);
    expect(row.etaMs).toBe(2000);
    expect(toJobRow(job({ total: 0 }), 1).progress).toBe(0);
  });
});

describe('sortJobRows', () => {
  it('sorts by name ignoring case', () => {
    expect(ids(sortJobRows(rows, { key: 'name', direction: 'asc' }))).toBe('bac');
    expect(ids(sortJobRows(rows, { key: 'name', direction: 'desc' }))).toBe('cab');
  });

  it('sorts by age with the youngest first when ascending', () => {
    expect(ids(sortJobRows(rows, { key: 'age', direction: 'asc' }))).toBe('bca');
  });

  it('puts running jobs first when sorting by state', () => {
    expect(ids(sortJobRows(rows, { key: 'state', direction: 'asc' }))).toBe('cab');
  });

  it('sorts by progress and rate', () => {
    expect(ids(sortJobRows(rows, { key: 'progress', direction: 'desc' }))).toBe('bac');
    expect(ids(sortJobRows(rows, { key: 'rate', direction: 'desc' }))).toBe('cab');
  });

  it('keeps jobs without an ETA last in both directions', () => {
    expect(ids(sortJobRows(rows, { key: 'eta', direction: 'asc' }))).toBe('cab');
    expect(ids(sortJobRows(rows, { key: 'eta', direction: 'desc' }))).toBe('acb');
  });

  it('does not change its input', () => {
    const copy = [...rows];
    sortJobRows(rows, { key: 'name', direction: 'asc' });
    expect(rows).toEqual(copy);
  });
});

describe('nextSort', () => {
  it('flips the direction of the current column', () => {
    expect(nextSort({ key: 'name', direction: 'asc' }, 'name')).toEqual({
      key: 'name',
      direction: 'desc',
    });
  });

  it('starts rate and progress high-to-low, the others ascending', () => {
    expect(nextSort({ key: 'name', direction: 'asc' }, 'rate').direction).toBe('desc');
    expect(nextSort({ key: 'rate', direction: 'desc' }, 'eta').direction).toBe('asc');
  });
});
