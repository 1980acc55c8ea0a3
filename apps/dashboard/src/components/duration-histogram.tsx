/** Per-task compute time as uPlot bars over the server's logarithmic buckets. */
import { useCallback, useMemo } from 'react';
import uPlot from 'uplot';
import type { JobDetail } from '@tabgrid/protocol/dashboard';
import { formatCount } from '../lib/format.js';
import { histogramBars, quantileBucket } from '../lib/histogram.js';
import { themeColor, UplotChart } from './uplot-chart.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const HEIGHT = 220;

export function DurationHistogram({ durations }: { durations: JobDetail['durations'] }) {
  const bars = useMemo(() => histogramBars(durations), [durations]);
  const labelKey = bars.labels.join('|');
  const data = useMemo<uPlot.AlignedData>(
    () => [bars.counts.map((_, i) => i), bars.counts],
    [bars],
  );

  const makeOptions = useCallback(
    (width: number): uPlot.Options => {
      const labels = labelKey.split('|');
      const muted = themeColor('--muted', '#5f6b80');
      const grid = themeColor('--grid', '#eef0f5');
      const accent = themeColor('--accent', '#3867d6');
      const crowded = width / labels.length < 78;
      return {
        width,
        height: HEIGHT,
        padding: [10, 12, 0, 0],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        scales: {
          x: { time: false, range: () => [-0.5, labels.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
        },
        axes: [
          {
            stroke: muted,
            font: FONT,
            grid: { show: false },
            ticks: { show: false },
            splits: () => labels.map((_, i) => i),
            values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
            ...(crowded ? { rotate: -40, size: 64 } : { size: 32 }),
          },
          {
            stroke: muted,
            font: FONT,
            size: 48,
            grid: { stroke: grid, width: 1 },
            ticks: { show: false },
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? formatCount(v) : '')),
          },
        ],
        series: [
          {},
          {
            label: 'tasks',
            stroke: accent,
            fill: `${accent}cc`,
            width: 0,
            paths: uPlot.paths.bars?.({ size: [0.72, 56], align: 0 }),
            points: { show: false },
          },
        ],
      };
    },
    [labelKey],
  );

  if (bars.counts.length === 0) {
    return (
      <p className="empty-inline">No task has finished yet: the histogram fills in as they do.</p>
    );
  }
  const median = quantileBucket(durations, 0.5);
  const p95 = quantileBucket(durations, 0.95);
  return (
    <div data-testid="duration-histogram">
      <UplotChart
        makeOptions={makeOptions}
        data={data}
        height={HEIGHT}
        label="Number of tasks by compute time"
      />
      <p className="chart-note">
        Median {median}, 95th percentile {p95} (per-task compute time in the worker tab).
      </p>
    </div>
  );
}
