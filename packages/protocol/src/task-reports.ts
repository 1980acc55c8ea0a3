/**
 * What a running job tells the server besides its outcomes (issue 13, the task model): progress,
 * console lines, events and Setup timings travel in `report` frames; a tab's busy time in
 * `sample` frames; collected series inside the outcomes themselves (see `ReportSeries`).
 *
 * Two sets of numbers live here, both shared by the worker page, the fleet's simulated workers
 * and the server:
 *
 * - {@link REPORT_LIMITS}: what one frame may carry (spread into `WORKER_LIMITS`): a frame over
 *   any of them is a protocol error and closes the socket.
 * - {@link TASK_LIMITS}: the caps job code runs into (per task in the thread, per job on the
 *   server), with the messages users see when they do.
 *
 * This module imports nothing from ./worker.ts (which imports it), so the two never form a cycle.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Bounds on one `report` / `sample` frame and on what rides in outcomes; see WORKER_LIMITS. */
export const REPORT_LIMITS = {
  /**
   * Largest `report` frame, in bytes (UTF-8 of its JSON, or of a binary frame's whole body).
   * Reading one costs the server's event loop in proportion to its size (~20 ms per MB to parse
   * and check), so the page and the fleet cut their reports into frames of at most this and the
   * server closes a connection that sends a larger one: a hostile page cannot stall it with one.
   */
  maxReportFrameBytes: 256 * 1024,
  /** Task (or job) entries in one report frame. */
  maxReportItems: 4_096,
  /** Console lines of one report entry, and the longest line (UTF-16 code units). */
  maxLogsPerItem: 256,
  maxLogLength: 2_000,
  /** Events of one report entry; an event's name length and its data's JSON size in bytes. */
  maxEventsPerItem: 256,
  maxEventNameLength: 100,
  maxEventDataBytes: 16 * 1024,
  /** Series (labels) one outcome may carry; a label's length; values in one label's append. */
  maxSeriesPerItem: 64,
  maxLabelLength: 100,
  maxValuesPerAppend: 10_000,
  /** Most levels event data, a collected value or told data may nest. */
  maxDataDepth: 32,
  /** Largest collapsed-line count or dropped tally. */
  maxCount: 1_000_000_000,
  /** Jobs one sample may account busy time to. */
  maxSampleJobs: 64,
  /** Stacks are cut to this by page and server before they are stored (decode accepts 64 KB). */
  maxStackLength: 4_096,
  /** Messages (`job.tell`) in one server → worker `messages` frame. */
  maxMessagesPerFrame: 1_000,
} as const;

/**
 * The caps of the task model. Per-task caps are applied in the thread (the page's and the sim's)
 * and re-checked by the server, which alone applies the per-job ones.
 */
export const TASK_LIMITS = {
  /** Console lines one task may produce; beyond, counted and one synthetic warn line at its end. */
  maxLogsPerTask: 1_000,
  /** Console lines the server stores per job; beyond, counted in `JobInfo.logs.dropped`. */
  maxLogsPerJob: 100_000,
  maxLogLength: REPORT_LIMITS.maxLogLength,
  /** Events one task may emit, and the server stores per job; beyond, dropped and counted. */
  maxEventsPerTask: 1_000,
  maxEventsPerJob: 100_000,
  maxEventNameLength: REPORT_LIMITS.maxEventNameLength,
  maxEventDataBytes: REPORT_LIMITS.maxEventDataBytes,
  /** Labels one task may collect under, and the serialized size of all its values. */
  maxLabelsPerTask: REPORT_LIMITS.maxSeriesPerItem,
  maxSeriesBytesPerTask: 1024 * 1024,
  /** Default of the server option `maxSeriesBytesPerJob` (TABGRID_MAX_SERIES_BYTES_PER_JOB). */
  defaultMaxSeriesBytesPerJob: 256 * 1024 * 1024,
  maxDataDepth: REPORT_LIMITS.maxDataDepth,
  /** Messages (`job.tell`) per job, the JSON size of one, and of all of a job's together. */
  maxMessagesPerJob: 1_000,
  maxMessageBytes: 64 * 1024,
  maxMessageBytesPerJob: 1024 * 1024,
  /** Longest note (`tg.note`), and notes kept per owner. */
  maxNoteLength: 500,
  maxNotesPerOwner: 1_000,
  /** A thread posts coalesced progress at most this often, even inside a synchronous loop. */
  progressPostMs: 100,
  /** The page flushes its report buffer this often (or at 1 MB). */
  reportFlushMs: 250,
  /** How long a Teardown may run before its thread is killed. */
  teardownDeadlineMs: 2_000,
  /** How often a tab sends a `sample` (only after some task ran). */
  sampleMs: 5_000,
} as const;

/** A series label, as job code passes it to `tabgrid.collect`. */
export const LABEL_PATTERN = /^[\w.:/ -]{1,100}$/;

/** The console levels job code may use. */
export const LOG_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The per-task collect error job code sees (a RangeError thrown inside Run). */
export function seriesTaskLimitMessage(): string {
  return (
    "tabgrid.collect: this task's series reached 1 MB (the limit per task); " +
    'collect less per task or aggregate first'
  );
}
/** The per-job collect error, after the server's `limit` frame. */
export function seriesJobLimitMessage(maxBytes: number): string {
  return (
    `tabgrid.collect: this job's series reached ${formatBytes(maxBytes)} (the limit per job); ` +
    'collect less per task or aggregate first'
  );
}
/** The synthetic line at the end of a task whose lines (or events) were cut. */
export function droppedLinesMessage(dropped: number, what: 'lines' | 'events' = 'lines'): string {
  const cap = what === 'lines' ? TASK_LIMITS.maxLogsPerTask : TASK_LIMITS.maxEventsPerTask;
  return `${dropped.toLocaleString('en-US')} ${what} dropped (limit ${cap.toLocaleString('en-US')} per task)`;
}

function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? `${mb} MB` : `${bytes} bytes`;
}

const JobId = Type.String({ minLength: 1, maxLength: 64 });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Same bound as an outcome's `ms` (WORKER_LIMITS.maxTaskMs). */
const TaskMs = Type.Number({ minimum: 0, maximum: 2 * 86_400_000 });
/** Epoch ms: the largest a Date holds. */
const At = Type.Number({ minimum: 0, maximum: 8.64e15 });
const Count = Type.Integer({ minimum: 1, maximum: REPORT_LIMITS.maxCount });

export const Label = Type.String({
  minLength: 1,
  maxLength: REPORT_LIMITS.maxLabelLength,
  pattern: '^[\\w.:/ -]+$',
});
export const LogLevelSchema = Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)));

/** One console line (collapsed: `count` consecutive identical ones). */
export const ReportLog = Type.Object({
  level: LogLevelSchema,
  message: Type.String({ maxLength: REPORT_LIMITS.maxLogLength }),
  count: Count,
  at: At,
});
export type ReportLog = Static<typeof ReportLog>;

/** One `tabgrid.emit(name, data)`; data's depth and byte size are checked by the decoder. */
export const ReportEvent = Type.Object({
  name: Type.String({ minLength: 1, maxLength: REPORT_LIMITS.maxEventNameLength }),
  data: Type.Unknown(),
  at: At,
});
export type ReportEvent = Static<typeof ReportEvent>;

/** What one task collected under one label, in order; rides in the task's outcome. */
export const ReportSeries = Type.Object({
  label: Label,
  values: Type.Array(Type.Unknown(), { maxItems: REPORT_LIMITS.maxValuesPerAppend }),
});
export type ReportSeries = Static<typeof ReportSeries>;

/** What one task (index) or the job (index null: load, Setup, Teardown) did since the last report. */
export const TaskReport = Type.Object({
  jobId: JobId,
  index: Type.Union([Index, Type.Null()]),
  /** The latest `tabgrid.progress` fraction; null = "alive" (called with no argument). */
  progress: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  /** Set by the page (not job code) when the task began running on a thread: starts its progress clock. */
  started: Type.Optional(Type.Literal(true)),
  logs: Type.Optional(Type.Array(ReportLog, { maxItems: REPORT_LIMITS.maxLogsPerItem })),
  events: Type.Optional(Type.Array(ReportEvent, { maxItems: REPORT_LIMITS.maxEventsPerItem })),
  /** Lines and events the thread or page dropped (over a cap) since the last report. */
  dropped: Type.Optional(Type.Object({ logs: Type.Optional(Count), events: Type.Optional(Count) })),
  /** Index null only: a Setup finished on one thread in `ms` (ok or not). */
  setup: Type.Optional(Type.Object({ ms: TaskMs, ok: Type.Boolean() })),
});
export type TaskReport = Static<typeof TaskReport>;

export const WorkerReport = Type.Object({
  type: Type.Literal('report'),
  items: Type.Array(TaskReport, { maxItems: REPORT_LIMITS.maxReportItems }),
});
export type WorkerReport = Static<typeof WorkerReport>;

/** A tab's monitor sample (every TASK_LIMITS.sampleMs, only after some task ran). */
export const WorkerSample = Type.Object({
  type: Type.Literal('sample'),
  /** Busy ms of each thread since the last sample (≤ interval), one entry per thread. */
  busyMs: Type.Array(Type.Number({ minimum: 0, maximum: 600_000 }), { maxItems: 256 }),
  intervalMs: Type.Number({ minimum: 100, maximum: 600_000 }),
  /** Tasks finished since the last sample. */
  tasks: Type.Integer({ minimum: 0, maximum: 1e9 }),
  /** `performance.memory.usedJSHeapSize` where the browser exposes it, else null. */
  heapUsed: Type.Union([Type.Integer({ minimum: 0, maximum: 2 ** 46 }), Type.Null()]),
  /** Busy ms per job since the last sample (at most 256 threads × 600 s). */
  jobs: Type.Array(
    Type.Object({ jobId: JobId, busyMs: Type.Number({ minimum: 0, maximum: 1.6e8 }) }),
    { maxItems: REPORT_LIMITS.maxSampleJobs },
  ),
});
export type WorkerSample = Static<typeof WorkerSample>;

/** Server → worker: messages of `job.tell`, in seq order (a reconnect may replay: skip seq ≤ last). */
export const ServerMessages = Type.Object({
  type: Type.Literal('messages'),
  jobId: JobId,
  items: Type.Array(
    Type.Object({ seq: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }), data: Type.Unknown() }),
    { maxItems: REPORT_LIMITS.maxMessagesPerFrame },
  ),
});
export type ServerMessages = Static<typeof ServerMessages>;

/** Server → worker: a per-job cap was reached; `collect` throws from now on (series only). */
export const ServerLimit = Type.Object({
  type: Type.Literal('limit'),
  jobId: JobId,
  what: Type.Literal('series'),
  /** The cap, for the error message job code sees (absent: the default). */
  maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
});
export type ServerLimit = Static<typeof ServerLimit>;

// ---- writing report frames --------------------------------------------------------------

const REPORT_FRAME_HEAD = '{"type":"report","items":[';
const REPORT_FRAME_TAIL = ']}';

/** UTF-8 size of a JSON text (its lone surrogates are escapes already, so this is exact). */
export function utf8Length(text: string): number {
  // eslint-disable-next-line no-control-regex -- any non-ASCII code unit
  if (!/[^\u0000-\u007f]/.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * `items` as the JSON texts of `report` frames within the protocol's bounds: at most
 * `maxReportItems` entries and `maxReportFrameBytes` bytes each, in order. An entry too big for
 * one frame (256 lines of 2,000 characters are ~0.5 MB) is halved, its lines and events in
 * order, until each part fits; the first part keeps its progress, Setup and dropped counts.
 * The worker page and the fleet both write their reports with it, so neither can send a frame
 * the server refuses.
 */
export function reportFrames(
  items: readonly TaskReport[],
  maxBytes: number = REPORT_LIMITS.maxReportFrameBytes,
): string[] {
  const room = maxBytes - REPORT_FRAME_HEAD.length - REPORT_FRAME_TAIL.length;
  const frames: string[] = [];
  let batch: string[] = [];
  let bytes = 0;
  const send = (): void => {
    if (batch.length > 0) frames.push(REPORT_FRAME_HEAD + batch.join(',') + REPORT_FRAME_TAIL);
    batch = [];
    bytes = 0;
  };
  const add = (item: TaskReport): void => {
    const text = JSON.stringify(item);
    const size = utf8Length(text);
    if (size > room) {
      const halves = halve(item);
      if (halves) {
        add(halves[0]);
        add(halves[1]);
        return;
      }
      // One line or event cannot be this big (the protocol bounds them far below a frame).
    }
    // +1: the comma before it.
    if (batch.length >= REPORT_LIMITS.maxReportItems || bytes + size + 1 > room) send();
    batch.push(text);
    bytes += size + 1;
  };
  for (const item of items) add(item);
  send();
  return frames;
}

/** An entry split in two, its lines and events in order; undefined when it holds one or none. */
function halve(item: TaskReport): [TaskReport, TaskReport] | undefined {
  const logs = item.logs ?? [];
  const events = item.events ?? [];
  if (logs.length + events.length < 2) return undefined;
  const logsCut = Math.ceil(logs.length / 2);
  const eventsCut = Math.floor(events.length / 2);
  const first: TaskReport = { ...item };
  delete first.logs;
  delete first.events;
  const second: TaskReport = { jobId: item.jobId, index: item.index };
  if (logsCut > 0) first.logs = logs.slice(0, logsCut);
  if (logs.length > logsCut) second.logs = logs.slice(logsCut);
  if (eventsCut > 0) first.events = events.slice(0, eventsCut);
  if (events.length > eventsCut) second.events = events.slice(eventsCut);
  return [first, second];
}
