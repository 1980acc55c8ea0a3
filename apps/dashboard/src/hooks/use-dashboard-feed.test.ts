import { describe, expect, it } from 'vitest';
import type { DashboardStats } from '@tabgrid/protocol/dashboard';
import { initialFeed, reduceFeed } from './use-dashboard-feed.js';

const grid = (at: number) => ({ at, tasksPerSecond: 10, workers: 1 });

describe('the dashboard feed state', () => {
  it("seeds the watched job's series from the server's history, then extends it", () => {
    const now = 1_000_000;
    let state = reduceFeed(initialFeed, {
      type: 'history',
      samples: [grid(now - 2000), grid(now - 1000)],
      jobId: 'j1',
      job: [
        { at: now - 1000, tasksPerSecond: 5 },
        { at: now - 2000, tasksPerSecond: 4 },
      ],
    });
    expect(state.jobRates.get('j1')).toEqual([
      { at: now - 2000, tasksPerSecond: 4 },
      { at: now - 1000, tasksPerSecond: 5 },
    ]);
    const job = { id: 'j1', tasksPerSecond: 6 } as DashboardStats['jobs'][number];
    const stats = { sample: grid(now), jobs: [job] } as DashboardStats;
    state = reduceFeed(state, { type: 'stats', stats, at: now });
    expect(state.jobRates.get('j1')?.map((p) => p.tasksPerSecond)).toEqual([4, 5, 6]);
    expect(state.samples).toHaveLength(3);
  });

  it('leaves the job series alone when no job is watched', () => {
    const state = reduceFeed(initialFeed, {
      type: 'history',
      samples: [grid(1000)],
      jobId: undefined,
      job: undefined,
    });
    expect(state.jobRates.size).toBe(0);
    expect(state.samples).toEqual([grid(1000)]);
  });
});
