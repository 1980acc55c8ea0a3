/**
 * What the submitter reads of a running job besides its outcomes (issue 13): progress, console
 * lines, events, collected series, the worker monitor and notes. The same items travel in
 * socket.io `job:feed` pushes (./sdk.ts) and as REST NDJSON lines (`/api/jobs/:id/logs`, …).
 *
 * Logs and events have a per-job monotonic `seq` like outcomes; a series item's `seq` is the
 * *outcome* seq of the task that collected it (one item per settled task); progress has none.
 * Times are ISO 8601, like `JobInfo.created`.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { createDecoder } from './codec.js';
import { Label, LogLevelSchema, REPORT_LIMITS, TASK_LIMITS } from './task-reports.js';

const JobId = Type.String({ minLength: 1, maxLength: 64 });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Iso = Type.String({ maxLength: 40 });
const WorkerId = Type.String({ maxLength: 100 });

/** The latest progress of one running task (fraction absent: "alive"). */
export const TaskProgress = Type.Object({
  index: Index,
  fraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  workerId: WorkerId,
  at: Iso,
});
export type TaskProgress = Static<typeof TaskProgress>;

/** One console line of job code (collapsed: `count` identical ones); index null: Setup/Teardown. */
export const LogLine = Type.Object({
  seq: Seq,
  index: Type.Union([Index, Type.Null()]),
  level: LogLevelSchema,
  message: Type.String({ maxLength: REPORT_LIMITS.maxLogLength }),
  count: Type.Integer({ minimum: 1, maximum: REPORT_LIMITS.maxCount }),
  workerId: WorkerId,
  at: Iso,
});
export type LogLine = Static<typeof LogLine>;

/** One `tabgrid.emit(name, data)`. */
export const JobEvent = Type.Object({
  seq: Seq,
  index: Type.Union([Index, Type.Null()]),
  name: Type.String({ minLength: 1, maxLength: REPORT_LIMITS.maxEventNameLength }),
  data: Type.Unknown(),
  at: Iso,
});
export type JobEvent = Static<typeof JobEvent>;

/** What one settled task collected under a label; `seq` is its outcome's. */
export const SeriesItem = Type.Object({
  seq: Seq,
  index: Index,
  values: Type.Array(Type.Unknown(), { maxItems: REPORT_LIMITS.maxValuesPerAppend }),
});
export type SeriesItem = Static<typeof SeriesItem>;

/** One point of a worker's monitor window (every sample, ≈ 5 s). */
export const MonitorSample = Type.Object({
  /** Epoch ms. */
  at: Type.Number(),
  /** Busy share of the tab's threads over the interval, 0..1. */
  cpu: Type.Number({ minimum: 0, maximum: 1 }),
  tasksPerSecond: Type.Number({ minimum: 0 }),
  heapUsed: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
});
export type MonitorSample = Static<typeof MonitorSample>;

/** A connected worker as the monitor sees it (`tg.workers()`, `GET /api/workers`). */
export const WorkerMonitor = Type.Object({
  workerId: WorkerId,
  userAgent: Type.String({ maxLength: 1_000 }),
  threads: Type.Integer({ minimum: 0 }),
  connectedAt: Iso,
  /** Oldest first, at most ≈ 1 hour. */
  samples: Type.Array(MonitorSample, { maxItems: 720 }),
  /** What each job used on this worker (a non-admin sees only their own jobs). */
  jobs: Type.Array(
    Type.Object({
      jobId: JobId,
      cpuMs: Type.Number({ minimum: 0 }),
      peakHeapBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    }),
    { maxItems: 1_000 },
  ),
});
export type WorkerMonitor = Static<typeof WorkerMonitor>;

/** A note (`tg.note(text)`) drawn on the dashboard's charts at its time. */
export const Note = Type.Object({
  /** Epoch ms. */
  at: Type.Number(),
  text: Type.String({ maxLength: TASK_LIMITS.maxNoteLength }),
});
export type Note = Static<typeof Note>;

export const FeedName = Type.Union([
  Type.Literal('logs'),
  Type.Literal('events'),
  Type.Literal('progress'),
  Type.Literal('series'),
]);
export type FeedName = Static<typeof FeedName>;

/** Most items in one `job:feed` push. */
export const MAX_FEED_PUSH_ITEMS = 2_000;

function pushOf<F extends FeedName, T extends TSchema>(feed: F, item: T) {
  return Type.Object({
    subscriptionId: Type.String({ minLength: 1, maxLength: 100 }),
    jobId: JobId,
    feed: Type.Literal(feed),
    items: Type.Array(item, { maxItems: MAX_FEED_PUSH_ITEMS }),
  });
}

/**
 * A batch of one feed's items (socket.io `job:feed`); call `ack()` when ready for more. `feed`
 * tells which items it carries (a logs push of event items is refused on decode).
 */
export const FeedPush = Type.Union([
  pushOf('logs', LogLine),
  pushOf('events', JobEvent),
  pushOf('progress', TaskProgress),
  pushOf('series', SeriesItem),
]);
export type FeedPush = Static<typeof FeedPush>;

/** The item type of each feed. */
export type FeedItemOf = {
  [F in FeedName]: Extract<FeedPush, { feed: F }>['items'][number];
};

/** Decodes a `job:feed` push; throws TG_ERR_PROTOCOL. */
export const decodeFeedPush = createDecoder(FeedPush, 'job:feed push');

export const decodeTaskProgress = createDecoder(TaskProgress, 'progress');
export const decodeLogLine = createDecoder(LogLine, 'log line');
export const decodeJobEvent = createDecoder(JobEvent, 'event');
export const decodeSeriesItem = createDecoder(SeriesItem, 'series item');
export const decodeWorkerMonitor = createDecoder(WorkerMonitor, 'worker monitor');
export const decodeWorkerMonitors = createDecoder(
  Type.Array(WorkerMonitor, { maxItems: 100_000 }),
  'workers',
);
export const decodeNote = createDecoder(Note, 'note');
export { Label };
