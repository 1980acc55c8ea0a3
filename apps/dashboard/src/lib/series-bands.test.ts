import { describe, expect, it } from 'vitest';
import { MAX_EXAMPLES, MAX_LINES, MAX_STEPS, SeriesBands } from './series-bands.js';

describe('SeriesBands', () => {
  it('draws a line per task, in index order, padded to the longest task', () => {
    const bands = new SeriesBands();
    bands.add(1, 7, [3, 2, 1]);
    bands.add(2, 2, [10, 20]);
    expect(bands.plot()).toEqual({
      mode: 'lines',
      steps: [0, 1, 2],
      lines: [
        { index: 2, values: [10, 20, null] },
        { index: 7, values: [3, 2, 1] },
      ],
    });
  });

  it(`switches to min/mean/max per step beyond ${MAX_LINES} tasks`, () => {
    const bands = new SeriesBands();
    for (let i = 0; i < MAX_LINES; i++) bands.add(i + 1, i, [i, 100]);
    expect(bands.plot().mode).toBe('lines');
    bands.add(MAX_LINES + 1, MAX_LINES, [MAX_LINES, 100, 5]);
    const plot = bands.plot();
    if (plot.mode !== 'bands') throw new Error(`expected bands, got ${plot.mode}`);
    expect(plot.steps).toEqual([0, 1, 2]);
    expect(plot.min).toEqual([0, 100, 5]);
    expect(plot.max).toEqual([MAX_LINES, 100, 5]);
    // 0 + 1 + … + 20 over 21 tasks.
    expect(plot.mean[0]).toBeCloseTo(10);
    expect(plot.mean.slice(1)).toEqual([100, 5]);
  });

  it('plots finite numbers only and keeps a few of the other values as examples', () => {
    const bands = new SeriesBands();
    bands.add(1, 0, ['warm-up', 1, null, Number.NaN, { loss: 2 }]);
    const plot = bands.plot();
    if (plot.mode !== 'lines') throw new Error('expected lines');
    expect(plot.lines[0]!.values).toEqual([null, 1, null, null, null]);
    const summary = bands.describe();
    expect(summary).toMatchObject({ tasks: 1, numeric: 1, other: 4, beyondSteps: 0 });
    expect(summary.examples.map((e) => [e.step, e.text])).toEqual([
      [0, '"warm-up"'],
      [2, 'null'],
      [3, 'null'],
      [4, '{"loss":2}'],
    ]);
  });

  it('leaves a step with no numeric value empty in the band, and keeps later steps in place', () => {
    const bands = new SeriesBands();
    for (let i = 0; i < MAX_LINES + 1; i++) bands.add(i + 1, i, ['x', i]);
    const plot = bands.plot();
    if (plot.mode !== 'bands') throw new Error('expected bands');
    expect(plot.min).toEqual([null, 0]);
    expect(plot.max).toEqual([null, MAX_LINES]);
  });

  it('ignores an item at or below the last seq (a repeat)', () => {
    const bands = new SeriesBands();
    bands.add(5, 1, [1]);
    bands.add(5, 1, [1]);
    bands.add(4, 2, [9]);
    expect(bands.tasks).toBe(1);
  });

  it(`keeps at most ${MAX_STEPS} steps and ${MAX_EXAMPLES} examples, counting the rest`, () => {
    const bands = new SeriesBands();
    bands.add(
      1,
      0,
      Array.from({ length: MAX_STEPS + 3 }, (_, i) => i),
    );
    bands.add(
      2,
      1,
      Array.from({ length: MAX_EXAMPLES + 5 }, () => 'z'.repeat(500)),
    );
    expect(bands.plot().steps).toHaveLength(MAX_STEPS);
    const summary = bands.describe();
    expect(summary.beyondSteps).toBe(3);
    expect(summary.other).toBe(MAX_EXAMPLES + 5);
    expect(summary.examples).toHaveLength(MAX_EXAMPLES);
    expect(summary.examples[0]!.text.length).toBeLessThanOrEqual(200);
  });
});
