/**
 * CPU (0–100 % of each tab's threads) and JS heap per worker over time, from the monitor, with
 * the notes as markers. A line per worker up to 20, then min/mean/max over the workers.
 */
import { useCallback, useMemo } from 'react';
import type uPlot from 'uplot';
import { formatBytes } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import {
  anyHeap,
  workerPlot,
  type Metric,
  type MonitoredWorker,
  type WorkerPlot,
} from '../lib/worker-series.js';
import { Card } from './card.js';
import { bandSeries, sparsePoints, themeColor, UplotChart } from './uplot-chart.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** The window shown while there is less data: a just-opened page is not a dot. */
const MIN_WINDOW_S = 60;

function lineColor(i: number): string {
  return `hsl(${(i * 137.508 + 200) % 360} 60% 48%)`;
}

function chartData(plot: WorkerPlot): uPlot.AlignedData {
  const xs = [...plot.xs];
  const columns =
    plot.mode === 'lines'
      ? plot.lines.map((l) => [...l.values])
      : [[...plot.min], [...plot.mean], [...plot.max]];
  // uPlot derives no range from fewer than two x values: open the window with gaps.
  if (xs.length === 0) {
    xs.push(Date.now() / 1000);
    for (const c of columns) c.push(null);
  }
  while (xs.length < 2) {
    xs.unshift(xs[0]! - MIN_WINDOW_S);
    for (const c of columns) c.unshift(null);
  }
  return [xs, ...columns];
}

interface MetricChartProps {
  workers: readonly MonitoredWorker[];
  metric: Metric;
  notes: readonly ChartNote[];
  testId: string;
}

function MetricChart({ workers, metric, notes, testId }: MetricChartProps) {
  const plot = useMemo(() => workerPlot(workers, metric), [workers, metric]);
  const data = useMemo(() => chartData(plot), [plot]);
  const shape = plot.mode === 'lines' ? plot.lines.map((l) => l.workerId).join(',') : 'bands';
  const format = metric === 'cpu' ? (v: number) => `${Math.round(v)}%` : formatBytes;
  const makeOptions = useCallback(
    (width: number): uPlot.Options => {
      const muted = themeColor('--muted', '#5f6b80');
      const grid = themeColor('--grid', '#eef0f5');
      const accent = themeColor('--accent', '#3867d6');
      const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
        stroke: muted,
        font: FONT,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1, size: 4 },
        ...extra,
      });
      const common = { spanGaps: true } satisfies uPlot.Series;
      const series: uPlot.Series[] =
        plot.mode === 'lines'
          ? plot.lines.map((l, i) => ({
              ...common,
              label: l.workerId,
              stroke: lineColor(i),
              points: sparsePoints(lineColor(i)),
              width: 1.5,
            }))
          : bandSeries(accent);
      return {
        width,
        height: 200,
        padding: [10, 12, 0, 0],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 5 } },
        scales: {
          x: {
            time: true,
            // Up to now, not to the last sample: a quiet tab (no sample while idle) and a note
            // made after the last sample still show where they are in time.
            range: (_u, min, max) => {
              const end = Math.max(max ?? 0, Date.now() / 1000);
              return [Math.min(min ?? end, end - MIN_WINDOW_S), end];
            },
          },
          y: {
            range: (_u, _min, max) =>
              metric === 'cpu' ? [0, 100] : [0, Math.max(1e6, (max ?? 0) * 1.15)],
          },
        },
        axes: [
          axis({ space: 70 }),
          axis({ size: 60, values: (_u, splits) => splits.map((v) => format(v)) }),
        ],
        series: [{}, ...series],
        ...(plot.mode === 'bands' ? { bands: [{ series: [3, 1], fill: `${accent}22` }] } : {}),
      };
    },
    // Rebuilt when the set of lines changes; new samples go through setData.
    [shape, metric],
  );
  const what = metric === 'cpu' ? 'CPU use per worker over time' : 'JS heap per worker over time';
  // How many values are plotted: for people reading the DOM (and the e2e test).
  const points = (plot.mode === 'lines' ? plot.lines.map((l) => l.values) : [plot.mean])
    .flat()
    .filter((v) => v !== null).length;
  return (
    <div data-testid={`${testId}-box`} data-points={points}>
      <UplotChart
        makeOptions={makeOptions}
        data={data}
        height={200}
        label={
          plot.mode === 'lines' ? what : `${what}: min, mean and max over ${workers.length} workers`
        }
        notes={notes}
        testId={testId}
      />
    </div>
  );
}

interface WorkerChartsProps {
  workers: readonly MonitoredWorker[];
  notes: readonly ChartNote[];
  /** Non-admin keys see what their own jobs used: CPU only, never a tab's heap. */
  ownJobsOnly: boolean;
}

export function WorkerCharts({ workers, notes, ownJobsOnly }: WorkerChartsProps) {
  const heap = anyHeap(workers);
  return (
    <div className="grid-2" data-testid="worker-charts">
      <Card
        title="CPU"
        aside={
          <span className="muted small">
            {ownJobsOnly
              ? 'your jobs’ share of each tab’s threads'
              : 'busy share of each tab’s threads'}
          </span>
        }
      >
        <MetricChart workers={workers} metric="cpu" notes={notes} testId="worker-cpu-chart" />
      </Card>
      <Card title="Memory" aside={<span className="muted small">JS heap used</span>}>
        <MetricChart workers={workers} metric="heap" notes={notes} testId="worker-heap-chart" />
        {!heap ? (
          <p className="chart-note" data-testid="heap-not-exposed">
            {ownJobsOnly
              ? 'A tab’s heap is shared by every job on it, so it is shown to admins only.'
              : 'Not exposed by these browsers (only Chromium reports its JS heap).'}
          </p>
        ) : null}
      </Card>
    </div>
  );
}
