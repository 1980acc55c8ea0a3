import { describe, expect, it } from 'vitest';
import { HISTORY_POINTS, RateSeries } from './rate-series.js';

function series(rates: number[]): RateSeries {
  const s = new RateSeries();
  rates.forEach((rate, i) => s.add(1000 * (i + 1), rate));
  return s;
}

describe('RateSeries', () => {
  it('keeps the newest points only', () => {
    const s = series(Array.from({ length: HISTORY_POINTS + 5 }, (_, i) => i));
    const points = s.points();
    expect(points).toHaveLength(HISTORY_POINTS);
    expect(points[0]).toEqual({ at: 6000, tasksPerSecond: 5 });
  });

  it('thins to averages of consecutive runs, keeping the total and the end time', () => {
    const s = series([1, 3, 5, 7, 9, 11, 13]);
    s.thin(3); // runs of 3: [1,3,5] [7,9,11] [13]
    expect(s.points()).toEqual([
      { at: 3000, tasksPerSecond: 3 },
      { at: 6000, tasksPerSecond: 9 },
      { at: 7000, tasksPerSecond: 13 },
    ]);
    s.thin(10); // already small enough
    expect(s.points()).toHaveLength(3);
  });
});
