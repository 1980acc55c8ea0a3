import { describe, expect, it } from 'vitest';
import {
  currentRate,
  estimateEtaMs,
  etaPlaceholder,
  lifetimeRate,
  recentRate,
  remainingTasks,
} from './eta.js';

const job = (over: Partial<Parameters<typeof estimateEtaMs>[0]> = {}) => ({
  state: 'closed' as const,
  total: 1000,
  finished: 400,
  failed: 100,
  ...over,
});

describe('remainingTasks', () => {
  it('counts unsettled tasks and never goes negative', () => {
    expect(remainingTasks(job())).toBe(500);
    expect(remainingTasks(job({ finished: 990, failed: 20 }))).toBe(0);
  });
});

describe('recentRate', () => {
  it('averages the points inside the window, ending at the newest point', () => {
    const points = [
      { at: 1000, tasksPerSecond: 1000 },
      { at: 20_000, tasksPerSecond: 10 },
      { at: 21_000, tasksPerSecond: 30 },
    ];
    expect(recentRate(points, 5000)).toBe(20);
    expect(recentRate(points, 60_000)).toBeCloseTo(1040 / 3);
  });

  it('is 0 with no points', () => {
    expect(recentRate([])).toBe(0);
  });
});

describe('estimateEtaMs', () => {
  it('divides the remaining tasks by the rate', () => {
    expect(estimateEtaMs(job(), 50)).toBe(10_000);
  });

  it('has no estimate when stalled, finished or with nothing left', () => {
    expect(estimateEtaMs(job(), 0)).toBeUndefined();
    expect(estimateEtaMs(job(), Number.NaN)).toBeUndefined();
    expect(estimateEtaMs(job({ state: 'done' }), 50)).toBeUndefined();
    expect(estimateEtaMs(job({ state: 'cancelled' }), 50)).toBeUndefined();
    expect(estimateEtaMs(job({ state: 'open', finished: 900 }), 50)).toBeUndefined();
  });
});

describe('etaPlaceholder', () => {
  it('says why there is no estimate', () => {
    expect(etaPlaceholder(job({ state: 'done' }))).toBe('done');
    expect(etaPlaceholder(job({ state: 'cancelled' }))).toBe('—');
    expect(etaPlaceholder(job({ state: 'open', finished: 900 }))).toBe('waiting for tasks');
    expect(etaPlaceholder(job())).toBe('stalled');
  });
});

describe('currentRate', () => {
  const points = [
    { at: 1000, tasksPerSecond: 10 },
    { at: 2000, tasksPerSecond: 30 },
  ];
  it('is the recent mean while the job runs and 0 once it stopped', () => {
    expect(currentRate(job(), points)).toBe(20);
    expect(currentRate(job({ state: 'open' }), points)).toBe(20);
    expect(currentRate(job({ state: 'done' }), points)).toBe(0);
    expect(currentRate(job({ state: 'cancelled' }), points)).toBe(0);
  });
});

describe('lifetimeRate', () => {
  it('divides the settled tasks by the time from creation to the last change', () => {
    const times = { created: '2025-01-01T00:00:00Z', modified: '2025-01-01T00:00:10Z' };
    expect(lifetimeRate({ ...job(), ...times })).toBe(50);
    expect(lifetimeRate({ ...job(), ...times, modified: times.created })).toBe(0);
  });
});
