/**
 * What one task may send beside its outcome (issue #13's task model), as the thread runtime
 * enforces it: inlined into the thread's source as plain JSON (thread-source.ts), like the
 * outcome limits. The server re-checks every one of them: a subverted thread skips these.
 */
import { REPORT_LIMITS, TASK_LIMITS as PROTOCOL_TASK_LIMITS } from '@tabgrid/protocol/task-reports';

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

/** The protocol's task-model caps, as the thread runtime needs them inlined. */
export const TASK_LIMITS: Readonly<TaskLimits> = Object.freeze({
  logsPerTask: PROTOCOL_TASK_LIMITS.maxLogsPerTask,
  logLength: PROTOCOL_TASK_LIMITS.maxLogLength,
  eventsPerTask: PROTOCOL_TASK_LIMITS.maxEventsPerTask,
  eventNameLength: PROTOCOL_TASK_LIMITS.maxEventNameLength,
  eventDataBytes: PROTOCOL_TASK_LIMITS.maxEventDataBytes,
  labelsPerTask: PROTOCOL_TASK_LIMITS.maxLabelsPerTask,
  labelLength: REPORT_LIMITS.maxLabelLength,
  seriesBytesPerTask: PROTOCOL_TASK_LIMITS.maxSeriesBytesPerTask,
  valuesPerLabel: REPORT_LIMITS.maxValuesPerAppend,
  dataDepth: PROTOCOL_TASK_LIMITS.maxDataDepth,
  progressPostMs: PROTOCOL_TASK_LIMITS.progressPostMs,
});
