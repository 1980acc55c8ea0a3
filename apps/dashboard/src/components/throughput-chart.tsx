/**
 * Tasks/s over time (uPlot), optionally with workers online on a second axis: the overview's
 * last 15 minutes, or one job's throughput on its page.
 */
import { useCallback, useMemo } from 'react';
import uPlot from 'uplot';
import { formatRate } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import { themeColor, UplotChart } from './uplot-chart.js';

export interface ThroughputPoint {
  /** Epoch ms. */
  at: number;
  tasksPerSecond: number;
  workers?: number;
}

interface ThroughputChartProps {
  points: readonly ThroughputPoint[];
  /** Draw workers online as a step line on a right-hand axis. */
  withWorkers?: boolean;
  /** Narrowest time window shown (s), while there is less data than that. */
  minWindowS: number;
  /** Widest time window shown (s). */
  maxWindowS?: number;
  height?: number;
  /** Vertical markers (`tg.note`). */
  notes?: readonly ChartNote[];
  testId?: string;
}

/** What a screen reader gets of the canvas: the peak rate, when there is data. */
function peakNote(points: readonly ThroughputPoint[]): string {
  if (points.length === 0) return '';
  return ` (peak ${formatRate(Math.max(...points.map((p) => p.tasksPerSecond)))})`;
}

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function axis(stroke: string, grid: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke,
    font: FONT,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1, size: 4 },
    ...extra,
  };
}

export function ThroughputChart({
  points,
  withWorkers = false,
  minWindowS,
  maxWindowS = 15 * 60,
  height = 220,
  notes,
  testId,
}: ThroughputChartProps) {
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs: number[] = points.map((p) => p.at / 1000);
    const rates: (number | null)[] = points.map((p) => p.tasksPerSecond);
    const workers: (number | null)[] = points.map((p) => p.workers ?? 0);
    // uPlot cannot derive a time range from fewer than two points: open the window with gaps.
    if (xs.length === 0) {
      xs.push(Date.now() / 1000);
      rates.push(null);
      workers.push(null);
    }
    while (xs.length < 2) {
      xs.unshift(xs[0]! - minWindowS);
      rates.unshift(null);
      workers.unshift(null);
    }
    return withWorkers ? [xs, rates, workers] : [xs, rates];
  }, [points, withWorkers, minWindowS]);

  const makeOptions = useCallback(
    (width: number): uPlot.Options => {
      const muted = themeColor('--muted', '#5f6b80');
      const grid = themeColor('--grid', '#eef0f5');
      const accent = themeColor('--accent', '#3867d6');
      const ok = themeColor('--ok', '#20a464');
      const series: uPlot.Series[] = [
        {},
        {
          label: 'tasks/s',
          scale: 'rate',
          stroke: accent,
          width: 2,
          fill: `${accent}26`,
          points: { show: false },
          value: (_u, v) => (v === null ? '—' : formatRate(v)),
        },
      ];
      const axes: uPlot.Axis[] = [
        axis(muted, grid, { space: 70 }),
        axis(muted, grid, {
          scale: 'rate',
          size: 48,
          values: (_u, splits) => splits.map((v) => formatRate(v)),
        }),
      ];
      if (withWorkers) {
        series.push({
          label: 'workers',
          scale: 'workers',
          stroke: ok,
          width: 2,
          paths: uPlot.paths.stepped?.({ align: 1 }),
          points: { show: false },
        });
        axes.push(
          axis(ok, grid, {
            scale: 'workers',
            side: 1,
            size: 36,
            grid: { show: false },
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
          }),
        );
      }
      return {
        width,
        height,
        padding: [10, withWorkers ? 4 : 12, 0, 0],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => {
              const end = max ?? Date.now() / 1000;
              const start = Math.min(min ?? end, end - minWindowS);
              return [Math.max(start, end - maxWindowS), end];
            },
          },
          rate: { range: (_u, _min, max) => [0, Math.max(10, (max ?? 0) * 1.15)] },
          workers: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil((max ?? 0) * 1.25))] },
        },
        axes,
        series,
      };
    },
    [withWorkers, minWindowS, maxWindowS, height],
  );

  return (
    <UplotChart
      makeOptions={makeOptions}
      data={data}
      height={height}
      notes={notes}
      label={
        (withWorkers ? 'Tasks per second and workers online over time' : 'Tasks per second') +
        peakNote(points)
      }
      testId={testId}
    />
  );
}
