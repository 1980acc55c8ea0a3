/**
 * The dashboard's live feed over socket.io: `dashboard:subscribe` (with an Ack carrying the last
 * 15 minutes of samples, and of the subscribed job's throughput), then a `dashboard:stats` push
 * about once a second. Aggregated on the server: never one event per result, so a dashboard
 * stays cheap at any throughput.
 */
import { Type, type Static } from '@sinclair/typebox';
import { createDecoder } from './codec.js';
import { JobInfo, TaskFailure } from './jobs.js';
import { LogLine, Note, TaskProgress, WorkerMonitor } from './feeds.js';

/** One point of the overview time series. */
export const StatsSample = Type.Object({
  /** Epoch ms. */
  at: Type.Number(),
  tasksPerSecond: Type.Number(),
  workers: Type.Integer(),
});
export type StatsSample = Static<typeof StatsSample>;

export const WorkerStats = Type.Object({
  id: Type.String(),
  userAgent: Type.String(),
  threads: Type.Integer(),
  tasksDone: Type.Integer(),
  tasksPerSecond: Type.Number(),
  inFlight: Type.Integer(),
  currentJob: Type.Union([Type.String(), Type.Null()]),
  connectedSince: Type.String(),
  /** Answers that lost to an accepted quorum (redundancy). */
  strikes: Type.Integer(),
  /** Too many strikes: this worker gets no more tasks. */
  excluded: Type.Boolean(),
  /** The latest monitor sample (null before the first); heap null where not exposed. */
  sample: Type.Optional(
    Type.Union([
      Type.Object({
        cpu: Type.Number(),
        heapUsed: Type.Union([Type.Integer(), Type.Null()]),
      }),
      Type.Null(),
    ]),
  ),
});
export type WorkerStats = Static<typeof WorkerStats>;

export const JobStats = Type.Composite([JobInfo, Type.Object({ tasksPerSecond: Type.Number() })]);
export type JobStats = Static<typeof JobStats>;

/** Errors of a job that share a message: how many, and one of them in full. */
export const ErrorGroup = Type.Object({
  message: Type.String(),
  count: Type.Integer(),
  example: Type.Composite([TaskFailure, Type.Object({ index: Type.Integer() })]),
});
export type ErrorGroup = Static<typeof ErrorGroup>;

export const JobDetail = Type.Object({
  job: JobStats,
  /** Recent results, newest first. */
  latestResults: Type.Array(Type.Object({ index: Type.Integer(), value: Type.Unknown() })),
  errorGroups: Type.Array(ErrorGroup),
  /**
   * Per-task compute time histogram: `counts[i]` tasks took less than `bucketsMs[i]` ms (and at
   * least the previous bound); the last bucket is open-ended.
   */
  durations: Type.Object({
    bucketsMs: Type.Array(Type.Number()),
    counts: Type.Array(Type.Integer()),
  }),
  // The task model (issue 13); optional so that an older server's detail still decodes.
  /** Running tasks' latest progress (at most 200). */
  progress: Type.Optional(Type.Array(TaskProgress, { maxItems: 200 })),
  /** The job's newest console lines, oldest first (at most 50). */
  logTail: Type.Optional(Type.Array(LogLine, { maxItems: 50 })),
  /** Labels the job's tasks collected under (at most 100). */
  seriesLabels: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
});
export type JobDetail = Static<typeof JobDetail>;

export const DashboardStats = Type.Object({
  sample: StatsSample,
  threads: Type.Integer(),
  queued: Type.Integer(),
  inFlight: Type.Integer(),
  jobsRunning: Type.Integer(),
  jobs: Type.Array(JobStats),
  workers: Type.Array(WorkerStats),
  /** Present when the subscription names a job. */
  detail: Type.Optional(JobDetail),
});
export type DashboardStats = Static<typeof DashboardStats>;

export const DashboardSubscribe = Type.Object({
  /** Also send this job's detail (the job page). */
  jobId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export type DashboardSubscribe = Static<typeof DashboardSubscribe>;

/** One point of a job's throughput series. */
export const RateSample = Type.Object({
  /** Epoch ms. */
  at: Type.Number(),
  tasksPerSecond: Type.Number(),
});
export type RateSample = Static<typeof RateSample>;

export const DashboardHistory = Type.Object({
  samples: Type.Array(StatsSample),
  /** The subscribed job's tasks/s, a point a second while it ran, over the same window. */
  job: Type.Optional(Type.Array(RateSample)),
  /** Notes (`tg.note`) over the same window, oldest first. */
  notes: Type.Optional(Type.Array(Note, { maxItems: 1_000 })),
  /** The worker monitor's windows (admin: every worker; else what the caller's jobs used). */
  workers: Type.Optional(Type.Array(WorkerMonitor)),
});
export type DashboardHistory = Static<typeof DashboardHistory>;

export const decodeDashboardStats = createDecoder(DashboardStats, 'dashboard:stats push');
export const decodeDashboardHistory = createDecoder(DashboardHistory, 'dashboard history');
