/** A uPlot chart that follows its container's width and takes new data without being rebuilt. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useElementWidth } from '../hooks/use-element-width.js';
import { notesPlugin, type ChartNote } from '../lib/notes.js';

interface UplotChartProps {
  /** Builds the options for a width; a new function (identity) rebuilds the chart. */
  makeOptions: (width: number) => uPlot.Options;
  data: uPlot.AlignedData;
  height: number;
  label: string;
  /** Drawn as vertical markers (time charts only: the x scale must be epoch seconds). */
  notes?: readonly ChartNote[];
  testId?: string;
}

const NO_NOTES: readonly ChartNote[] = [];

export function UplotChart({ makeOptions, data, height, label, notes, testId }: UplotChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>(undefined);
  const width = useElementWidth(box);
  const latest = useRef({ data, width });
  latest.current = { data, width };
  const noteSource = useRef(notes ?? NO_NOTES);
  noteSource.current = notes ?? NO_NOTES;
  const withNotes = notes !== undefined;
  const ready = width > 0;

  useEffect(() => {
    const element = box.current;
    if (!element || !ready) return;
    const options = makeOptions(latest.current.width);
    if (withNotes) options.plugins = [...(options.plugins ?? []), notesPlugin(noteSource)];
    const plot = new uPlot(options, latest.current.data, element);
    chart.current = plot;
    return () => {
      plot.destroy();
      chart.current = undefined;
    };
  }, [makeOptions, ready, withNotes]);

  useEffect(() => {
    if (width > 0) chart.current?.setSize({ width, height });
  }, [width, height]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  // setData redraws too; a new note alone needs a redraw of its own (paths and axes unchanged).
  useEffect(() => {
    chart.current?.redraw(false, false);
  }, [notes]);

  return (
    <div
      ref={box}
      className="chart"
      style={{ minHeight: height }}
      role="img"
      aria-label={label}
      data-testid={testId}
    />
  );
}

/** A colour from the stylesheet's custom properties, so charts follow the light/dark theme. */
export function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * Dots on a line only while few values are in view: a series of one sample (a worker that just
 * joined, a task that collected one value) is otherwise invisible, a long one is cluttered.
 */
export function sparsePoints(color: string): uPlot.Series.Points {
  return { show: (_u, _seriesIdx, idx0, idx1) => idx1 - idx0 < 40, size: 5, fill: color };
}

/**
 * A band of three lines, `min` and `max` faint around a bold `mean`: how the series chart and the
 * worker charts draw many tasks or workers at once.
 */
export function bandSeries(accent: string): uPlot.Series[] {
  const edge = (label: string): uPlot.Series => ({
    spanGaps: true,
    label,
    stroke: `${accent}80`,
    width: 1,
    points: sparsePoints(`${accent}80`),
  });
  const mean = {
    spanGaps: true,
    label: 'mean',
    stroke: accent,
    width: 2,
    points: sparsePoints(accent),
  };
  return [edge('min'), mean, edge('max')];
}

/** Axis ticks at whole numbers only (steps, counts). */
export const WHOLE_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
