import { describe, expect, it } from 'vitest';
import { MAX_WORKER_LINES, anyHeap, workerPlot, type MonitoredWorker } from './worker-series.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const s = (atMs: number, cpu: number, heapUsed: number | null = null) => ({
  at: atMs,
  cpu,
  heapUsed,
});

describe('workerPlot', () => {
  it('puts every worker on shared 5-second buckets, CPU in percent, gaps as null', () => {
    const workers: MonitoredWorker[] = [
      { workerId: 'a', samples: [s(T0, 0.5), s(T0 + 5_000, 1)] },
      { workerId: 'b', samples: [s(T0 + 5_200, 0.25), s(T0 + 10_000, 2)] },
    ];
    const plot = workerPlot(workers, 'cpu');
    expect(plot).toEqual({
      mode: 'lines',
      xs: [T0 / 1000, T0 / 1000 + 5, T0 / 1000 + 10],
      lines: [
        { workerId: 'a', values: [50, 100, null] },
        // A lying cpu above 1 is drawn at 100 %.
        { workerId: 'b', values: [null, 25, 100] },
      ],
    });
  });

  it('reads ISO times and skips samples without the metric', () => {
    const workers = [
      {
        workerId: 'a',
        samples: [
          { at: new Date(T0).toISOString(), cpu: 0.1, heapUsed: null },
          { at: new Date(T0 + 5_000).toISOString(), cpu: 0.1, heapUsed: 2e6 },
        ],
      },
    ];
    expect(workerPlot(workers, 'heap')).toEqual({
      mode: 'lines',
      xs: [T0 / 1000 + 5],
      lines: [{ workerId: 'a', values: [2e6] }],
    });
    expect(anyHeap(workers)).toBe(true);
    expect(anyHeap([{ workerId: 'b', samples: [s(T0, 0.2)] }])).toBe(false);
  });

  it(`draws min/mean/max over the workers beyond ${MAX_WORKER_LINES} of them`, () => {
    const workers = Array.from({ length: MAX_WORKER_LINES + 1 }, (_, i) => ({
      workerId: `w${i}`,
      samples: [s(T0, i / MAX_WORKER_LINES), ...(i === 0 ? [s(T0 + 5_000, 0.5)] : [])],
    }));
    const plot = workerPlot(workers, 'cpu');
    if (plot.mode !== 'bands') throw new Error('expected bands');
    expect(plot.xs).toEqual([T0 / 1000, T0 / 1000 + 5]);
    expect(plot.min).toEqual([0, 50]);
    expect(plot.max).toEqual([100, 50]);
    expect(plot.mean[0]).toBeCloseTo(50);
  });
});
