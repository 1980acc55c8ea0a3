/**
 * What one task may send beside its outcome (issue #13's task model), as the thread runtime
 * enforces it: inlined into the thread's source as plain JSON (thread-source.ts), like the
 * outcome limits. The server re-checks every one of them: a subverted thread skips these.
 */
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

export interface TaskLimits {
  /** Log lines (after collapsing) one task may send; beyond, counted as dropped. */
  logsPerTask: number;
  /** Characters of one formatted log line. */
  logLength: number;
  /** Events one task may emit; beyond, counted as dropped. */
  eventsPerTask: number;
  eventNameLength: number;
  /** UTF-8 bytes of one event's data as JSON. */
  eventDataBytes: number;
  /** Series labels one task may collect under. */
  labelsPerTask: number;
  labelLength: number;
  /** UTF-8 bytes of everything one task collected, as JSON. */
  seriesBytesPerTask: number;
  /** Values one task may collect under one label. */
  valuesPerLabel: number;
  /** Nesting of event data and collected values. */
  dataDepth: number;
  /** Progress (and what was logged so far) is posted at most this often inside a task. */
  progressPostMs: number;
}

export const TASK_LIMITS: Readonly<TaskLimits> = Object.freeze({
  logsPerTask: 1_000,
  logLength: WORKER_LIMITS.maxLogLength ?? 2_000,
  eventsPerTask: 1_000,
  eventNameLength: WORKER_LIMITS.maxEventNameLength ?? 100,
  eventDataBytes: WORKER_LIMITS.maxEventDataBytes ?? 16 * 1024,
  labelsPerTask: WORKER_LIMITS.maxSeriesPerItem ?? 64,
  labelLength: WORKER_LIMITS.maxLabelLength ?? 100,
  seriesBytesPerTask: 1024 * 1024,
  valuesPerLabel: WORKER_LIMITS.maxValuesPerAppend ?? 10_000,
  dataDepth: WORKER_LIMITS.maxDataDepth ?? 32,
  progressPostMs: 100,
});
