import { describe, expect, it } from 'vitest';
import type { JobStats } from '@tabgrid/protocol/dashboard';
import { appendSample, recordJobRates, seedSamples } from './history.js';

const s = (at: number, tasksPerSecond = 1) => ({ at, tasksPerSecond, workers: 1 });

describe('appendSample', () => {
  it('appends newer samples and ignores repeats', () => {
    const one = appendSample([], s(1000));
    const two = appendSample(one, s(2000));
    expect(two.map((x) => x.at)).toEqual([1000, 2000]);
    expect(appendSample(two, s(2000, 5))).toEqual(two);
    expect(appendSample(two, s(1500))).toEqual(two);
  });

  it('drops samples that fall out of the window', () => {
    const samples = [s(0), s(1000), s(2000)];
    expect(appendSample(samples, s(3000), 2000).map((x) => x.at)).toEqual([2000, 3000]);
  });
});

describe('seedSamples', () => {
  it('sorts and trims to the window', () => {
    expect(seedSamples([s(3000), s(1000), s(2000)], 1500).map((x) => x.at)).toEqual([2000, 3000]);
    expect(seedSamples([])).toEqual([]);
  });
});

describe('recordJobRates', () => {
  const job = (id: string, tasksPerSecond: number) => ({ id, tasksPerSecond }) as JobStats;

  it('adds one point per listed job and forgets jobs that are gone', () => {
    let series = recordJobRates(new Map(), [job('a', 5), job('b', 1)], 1000);
    series = recordJobRates(series, [job('a', 7)], 2000);
    expect(series.get('a')).toEqual([
      { at: 1000, tasksPerSecond: 5 },
      { at: 2000, tasksPerSecond: 7 },
    ]);
    expect(series.has('b')).toBe(false);
  });
});
