/**
 * A job's collected series (`tabgrid.collect(label, value)`): pick a label, see each task's
 * numeric values by step (a line per task up to 20 tasks, then min/mean/max per step), and
 * the first few non-numeric values listed under the chart.
 */
import { useCallback, useMemo, useState } from 'react';
import type uPlot from 'uplot';
import { useSeriesStream, type SeriesState } from '../hooks/use-series-stream.js';
import { MAX_STEPS, type SeriesPlot } from '../lib/series-bands.js';
import {
  bandSeries,
  sparsePoints,
  themeColor,
  UplotChart,
  WHOLE_INCREMENTS,
} from './uplot-chart.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Distinct hues for up to 20 task lines, stable per position. */
function lineColor(i: number): string {
  return `hsl(${(i * 137.508) % 360} 62% 50%)`;
}

function chartData(plot: SeriesPlot): uPlot.AlignedData {
  // uPlot needs two x values to derive a range.
  const steps = plot.steps.length >= 2 ? plot.steps : [0, 1];
  const pad = (values: (number | null)[]) =>
    plot.steps.length >= 2 ? values : [values[0] ?? null, null];
  if (plot.mode === 'lines') return [steps, ...plot.lines.map((l) => pad(l.values))];
  return [steps, pad(plot.min), pad(plot.mean), pad(plot.max)];
}

function seriesOptions(plot: SeriesPlot, accent: string): uPlot.Series[] {
  const common = { spanGaps: true } satisfies uPlot.Series;
  if (plot.mode === 'lines') {
    return [
      {},
      ...plot.lines.map((line, i) => ({
        ...common,
        label: `task ${line.index}`,
        stroke: lineColor(i),
        points: sparsePoints(lineColor(i)),
        width: 1.5,
      })),
    ];
  }
  return [{}, ...bandSeries(accent)];
}

function SeriesPlotChart({ state, label }: { state: SeriesState; label: string }) {
  const { plot } = state;
  const data = useMemo(() => chartData(plot), [plot]);
  // The chart is rebuilt when its shape changes (mode or number of lines), not for new values.
  const shape =
    plot.mode === 'lines' ? `lines:${plot.lines.map((l) => l.index).join(',')}` : 'bands';
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
      return {
        width,
        height: 220,
        padding: [10, 12, 0, 0],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 5 } },
        scales: { x: { time: false } },
        axes: [
          axis({
            space: 60,
            incrs: WHOLE_INCREMENTS,
            label: 'step',
            labelSize: 18,
            labelFont: FONT,
          }),
          axis({ size: 52 }),
        ],
        series: seriesOptions(plot, accent),
        ...(plot.mode === 'bands' ? { bands: [{ series: [3, 1], fill: `${accent}22` }] } : {}),
      };
    },
    // Rebuilt by shape only (see above): new values go through setData.
    [shape],
  );
  const what =
    plot.mode === 'lines'
      ? `${label} by step, one line per task (${plot.lines.length})`
      : `${label} by step: min, mean and max over ${state.summary.tasks.toLocaleString('en-US')} tasks`;
  return (
    <UplotChart
      makeOptions={makeOptions}
      data={data}
      height={220}
      label={what}
      testId="series-chart"
    />
  );
}

function statusText(state: SeriesState | undefined): string {
  if (!state || state.status === 'loading') return 'loading…';
  const count = state.summary.tasks.toLocaleString('en-US');
  const tasks =
    state.plot.mode === 'bands'
      ? `min, mean and max of ${count} tasks`
      : `${count} ${state.summary.tasks === 1 ? 'task' : 'tasks'}`;
  switch (state.status) {
    case 'live':
      return `${tasks} · live`;
    case 'ended':
      return tasks;
    case 'retrying':
      return `${tasks} · reconnecting (${state.reason ?? 'connection lost'})`;
    case 'failed':
      return `${tasks} · stopped: ${state.reason ?? 'unknown error'}`;
  }
}

interface SeriesChartProps {
  jobId: string;
  labels: readonly string[];
  /** For the REST read (any role may read series). */
  token: string;
}

export function SeriesChart({ jobId, labels, token }: SeriesChartProps) {
  const [picked, setPicked] = useState<string>();
  const label = picked !== undefined && labels.includes(picked) ? picked : labels[0];
  const state = useSeriesStream(jobId, label, token);
  if (label === undefined) {
    return (
      <p className="empty-inline" data-testid="no-series">
        No series yet. Call <code>tabgrid.collect(&apos;loss&apos;, value)</code> in{' '}
        <code>Run</code>: each task&apos;s values appear here once it settles.
      </p>
    );
  }
  const summary = state?.summary;
  return (
    <div className="series" data-testid="series" data-tasks={summary?.tasks ?? 0}>
      <div className="series__bar">
        <label className="series__picker">
          <span className="muted small">Series</span>
          <select
            value={label}
            onChange={(e) => setPicked(e.target.value)}
            data-testid="series-label"
          >
            {labels.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small" data-testid="series-status">
          {statusText(state)}
        </span>
      </div>
      {state && summary && summary.numeric > 0 ? (
        <SeriesPlotChart state={state} label={label} />
      ) : state && state.status !== 'loading' && summary?.tasks === 0 ? (
        <p className="empty-inline">No task has settled with values under this label yet.</p>
      ) : null}
      {summary && summary.beyondSteps > 0 ? (
        <p className="muted small">
          Only the first {MAX_STEPS.toLocaleString('en-US')} steps of each task are plotted (
          {summary.beyondSteps.toLocaleString('en-US')} values beyond them).
        </p>
      ) : null}
      {summary && summary.other > 0 ? (
        <details className="series__other" data-testid="series-other">
          <summary className="small">
            {summary.other.toLocaleString('en-US')} non-numeric{' '}
            {summary.other === 1 ? 'value' : 'values'} (not plotted)
          </summary>
          <ul className="tail">
            {summary.examples.map((e) => (
              <li key={`${e.index}:${e.step}`} className="tail__row">
                <span className="tail__index">
                  #{e.index} step {e.step}
                </span>
                <code className="tail__value">{e.text}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
