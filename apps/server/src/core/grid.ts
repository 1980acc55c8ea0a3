/**
 * The core's facade: the one module of core/ that routes and app.ts import. Jobs on behalf of a
 * caller, outcome pages and streams, the dashboard's feed, worker connections and the health
 * counters; the store, the dispatcher and the stats collector stay behind it.
 */
import type { DashboardHistory, DashboardStats } from '@tabgrid/protocol/dashboard';
import type { CreateJobRequest, JobInfo, Outcome, OutcomeKind } from '@tabgrid/protocol/jobs';
import { decodeStoredOutcome } from '@tabgrid/protocol/stored';
import type { WorkerToServer } from '@tabgrid/protocol/worker';
import type { Caller } from '../auth/caller.js';
import type { CarriedValue, JobRecord } from '../store/job-store.js';
import type {
  FeedName,
  FeedSink,
  JobEventItem,
  LogLineItem,
  SeriesItemView,
} from './feed-streams.js';
import { latestByName } from './job-directory.js';
import type { NoteView } from './job-messages.js';
import { withProvenance, type OutcomeSink, type StreamOptions } from './outcome-streams.js';
import { JobLog } from './job-log.js';
import { Scheduler } from './scheduler.js';
import { readReplayTask, type ReplayTask } from './task-replay.js';
import type { DeliveryStats, SchedulerOptions } from './scheduling-options.js';
import type { WorkerMonitorView } from '../telemetry/worker-monitor.js';
import type { WorkerLink, WorkerSession } from './worker-registry.js';
import type { SettleCounts } from './settle-counts.js';

export type { Caller } from '../auth/caller.js';
export type {
  FeedItem,
  FeedName,
  FeedSink,
  JobEventItem,
  LogLineItem,
  SeriesItemView,
  TaskProgressView,
} from './feed-streams.js';
export type { NoteView } from './job-messages.js';
export type { Clock, RandomSource, TimerHandle } from './clock.js';
export type { OutcomeSink } from './outcome-streams.js';
export type { DeliveryStats, SchedulerOptions, SchedulingOptions } from './scheduling-options.js';
export type { WorkerLink } from './worker-registry.js';
export type { CoreLog } from './core-log.js';
export type { OutcomeType, SettleCounts } from './settle-counts.js';

/** A connected worker, as the route that owns its socket holds it (opaque to the route). */
export type WorkerHandle = WorkerSession;

/** A job as routes see it. */
export interface JobView {
  readonly record: Readonly<Pick<JobRecord, 'id'>>;
  /** Highest seq durable: where a live stream that gives no `from` starts. */
  readonly durableSeq: number;
  info(): JobInfo;
}

/** What /healthz reports of the grid. */
export interface GridHealth extends DeliveryStats {
  workers: number;
}

/** What /metrics reports of the grid, read at scrape time (counts, no per-task work). */
export interface GridMetrics {
  workers: number;
  /** Threads the connected workers announced. */
  threads: number;
  /** Worker connections accepted and ended since start. */
  workersJoined: number;
  workersLeft: number;
  /** Tasks of runnable jobs waiting for a worker, and leased to one. */
  queued: number;
  inFlight: number;
  jobs: { runnable: number; total: number };
  delivery: DeliveryStats;
  settled: Readonly<SettleCounts>;
}

export class Grid {
  private joined = 0;
  private left = 0;

  private constructor(
    /** The core behind the facade (tests and diagnostics look inside; routes never do). */
    readonly scheduler: Scheduler,
    private readonly jobLog: JobLog,
  ) {}

  /** Loads every job from the store and starts dispatching. */
  static async open(options: SchedulerOptions): Promise<Grid> {
    return new Grid(await Scheduler.open(options), new JobLog(options.log));
  }

  // ---- jobs on behalf of a caller ------------------------------------------------------

  /** The caller's job, or TG_ERR_JOB_NOT_FOUND. */
  job(caller: Caller, jobId: string): JobView {
    return this.scheduler.job(caller, jobId);
  }

  listJobs(caller: Caller): JobInfo[] {
    return this.scheduler.listJobs(caller);
  }

  async createJob(caller: Caller, req: CreateJobRequest): Promise<JobInfo> {
    const info = await this.scheduler.createJob(caller, req);
    this.jobLog.acted('created', caller, info);
    return info;
  }

  submit(
    caller: Caller,
    jobId: string,
    batchId: string,
    tasks: unknown[],
  ): Promise<{ firstIndex: number; count: number }> {
    return this.scheduler.submit(caller, jobId, batchId, tasks);
  }

  submitEncoded(
    caller: Caller,
    jobId: string,
    batchId: string,
    inputs: CarriedValue[],
  ): Promise<{ firstIndex: number; count: number }> {
    return this.scheduler.submitEncoded(caller, jobId, batchId, inputs);
  }

  async closeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const info = await this.scheduler.closeJob(caller, jobId);
    this.jobLog.acted('closed', caller, info);
    return info;
  }

  async cancelJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const info = await this.scheduler.cancelJob(caller, jobId);
    this.jobLog.acted('cancelled', caller, info);
    return info;
  }

  async resumeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const info = await this.scheduler.resumeJob(caller, jobId);
    this.jobLog.acted('resumed', caller, info);
    return info;
  }

  async deleteJob(caller: Caller, jobId: string): Promise<void> {
    const info = this.scheduler.job(caller, jobId).info();
    await this.scheduler.deleteJob(caller, jobId);
    this.jobLog.acted('deleted', caller, info);
  }

  async deleteJobs(caller: Caller): Promise<number> {
    const count = await this.scheduler.deleteJobs(caller);
    if (count > 0) this.jobLog.log.info({ by: caller.name, count }, `deleted ${count} jobs`);
    return count;
  }

  // ---- outcomes ----------------------------------------------------------------------

  /**
   * One page of a job's settled outcomes after seq `after`, decoded (REST reads); throws
   * TG_ERR_INTERNAL naming the task when a stored row does not decode. The job was looked up
   * for the caller first.
   */
  async readOutcomes(
    jobId: string,
    after: number,
    kind: OutcomeKind,
    limit: number,
    options: StreamOptions = {},
  ): Promise<Outcome[]> {
    if (options.provenance) {
      const job = this.scheduler.findJob(jobId);
      const rows = await this.scheduler.store.readOutcomes(jobId, after, kind, limit, options);
      return job ? rows.map((row) => withProvenance(row, job.record.programHash)) : [];
    }
    const rows = await this.scheduler.store.readOutcomes(jobId, after, kind, limit);
    return rows.map(decodeStoredOutcome);
  }

  /**
   * A live stream of a job's outcomes from seq `from` (replaces one with the same id); with
   * `provenance`, each with its provenance.
   */
  subscribe(
    id: string,
    jobId: string,
    kind: OutcomeKind,
    from: number,
    sink: OutcomeSink,
    options: StreamOptions = {},
  ): void {
    this.scheduler.streams.subscribe(id, jobId, kind, from, sink, options);
  }

  /** Ends the outcome stream or feed `id` (they share ids: one per subscription). */
  unsubscribe(id: string): void {
    this.scheduler.streams.unsubscribe(id);
    this.scheduler.feeds.streams.unsubscribe(id);
  }

  // ---- the task model's feeds (issue 13) -------------------------------------------------

  /**
   * A live feed of a job (looked up for the caller first) from seq `from`: `logs`, `events`,
   * `series` (one `label`, `from` an outcome seq) or `progress` (no cursor: a snapshot, then
   * changes). Replaces a subscription with the same id; ends like an outcome stream.
   */
  follow(
    id: string,
    jobId: string,
    feed: FeedName,
    from: number,
    label: string | undefined,
    sink: FeedSink,
  ): void {
    this.scheduler.feeds.streams.subscribe(id, jobId, feed, from, label, sink);
  }

  /** One page of the caller's job's log lines or events after seq `from` (REST reads). */
  readFeed(
    caller: Caller,
    jobId: string,
    feed: 'logs' | 'events',
    from: number,
    limit: number,
  ): Promise<(LogLineItem | JobEventItem)[]> {
    const job = this.scheduler.job(caller, jobId);
    return this.scheduler.feeds.streams.readLines(job, feed, from, limit);
  }

  /** The labels the caller's job's settled tasks collected under (at most 10,000). */
  seriesLabels(caller: Caller, jobId: string): Promise<string[]> {
    this.scheduler.job(caller, jobId);
    return this.scheduler.store.seriesLabels(jobId, 10_000);
  }

  /** One page of a series of the caller's job after outcome seq `from`. */
  readSeriesSince(
    caller: Caller,
    jobId: string,
    label: string,
    from: number,
    limit: number,
  ): Promise<SeriesItemView[]> {
    const job = this.scheduler.job(caller, jobId);
    return this.scheduler.feeds.streams.readSeries(job, label, from, limit);
  }

  /**
   * Sends `data` to every thread of the caller's job, now or joining later; resolves once it is
   * stored. TG_ERR_JOB_FINISHED for a done or cancelled job; a repeated `messageId` answers the
   * first seq.
   */
  async tell(
    caller: Caller,
    jobId: string,
    data: unknown,
    messageId?: string,
  ): Promise<{ seq: number }> {
    const { feeds, cluster } = this.scheduler;
    const job = this.scheduler.job(caller, jobId);
    // Several nodes: messages other nodes stored come first, so this one's seq follows them.
    if (cluster && job.runnable) await feeds.messages.catchUp(job);
    const told = await feeds.messages.tell(job, data, messageId);
    cluster?.announce('messages', jobId);
    return told;
  }

  /** Task `index` of the caller's job as submitted, with the job's program and args (replay). */
  replayTask(caller: Caller, jobId: string, index: number): Promise<ReplayTask> {
    this.scheduler.job(caller, jobId);
    return readReplayTask(this.scheduler.store, jobId, index);
  }

  /** The caller's newest job named `name` (an admin's: anyone's), if there is one. */
  latestJob(caller: Caller, name: string): JobView | undefined {
    return latestByName(this.scheduler.visibleJobs(caller), name);
  }

  /** A note on the dashboard's charts at this time. */
  note(caller: Caller, text: string): Promise<{ at: number }> {
    return this.scheduler.feeds.notes.add(caller, text);
  }

  /** The caller's notes since `since` (epoch ms), oldest first (an admin's: everyone's). */
  notes(caller: Caller, since: number): Promise<NoteView[]> {
    return this.scheduler.feeds.notes.list(caller, since);
  }

  // ---- dashboard ---------------------------------------------------------------------

  /** Calls `listener` after every stats tick; returns the unsubscribe function. */
  onTick(listener: () => void): () => void {
    return this.scheduler.statsCollector.onTick(listener);
  }

  /** The dashboard snapshot `caller` may see (with `jobId`'s detail). */
  async snapshot(caller: Caller, jobId?: string): Promise<DashboardStats> {
    const stats = await this.scheduler.statsCollector.snapshot(caller, jobId);
    // The job page's task-model parts: running tasks' progress, the log tail, series labels.
    const job = stats.detail && jobId !== undefined ? this.scheduler.findJob(jobId) : undefined;
    if (stats.detail && job) Object.assign(stats.detail, await this.scheduler.feeds.detail(job));
    return stats;
  }

  /**
   * The grid's throughput history, `job`'s series when one is given, and with `caller` the
   * worker monitor's windows that caller may see.
   */
  history(job?: JobView, caller?: Caller): DashboardHistory {
    const runtime = job ? this.scheduler.findJob(job.record.id) : undefined;
    return this.scheduler.statsCollector.history(runtime, caller);
  }

  // ---- workers -----------------------------------------------------------------------

  connectWorker(link: WorkerLink): WorkerHandle {
    const worker = this.scheduler.dispatcher.connect(link);
    this.joined++;
    return worker;
  }

  /** Applies one decoded message from a worker. */
  handleWorker(worker: WorkerHandle, msg: WorkerToServer): void {
    this.scheduler.dispatcher.handle(worker, msg);
  }

  /** A report frame of `worker` was dropped unread (over its connection's read budget). */
  reportUnread(worker: WorkerHandle): void {
    this.scheduler.dispatcher.reportUnread(worker);
  }

  disconnectWorker(worker: WorkerHandle): void {
    this.scheduler.dispatcher.disconnect(worker);
    this.left++;
  }

  /**
   * The worker monitor as `caller` may see it: every worker for a caller that sees all; else
   * only workers that ran the caller's jobs, with only those jobs' usage (no tab-wide heap).
   */
  workers(caller: Caller): WorkerMonitorView[] {
    return this.scheduler.monitor.workers(caller);
  }

  // ---- operations --------------------------------------------------------------------

  health(): GridHealth {
    return { workers: this.scheduler.workers.size, ...this.scheduler.stats };
  }

  /**
   * Jobs that finished (done, or cancelled with every task settled) before `before` (epoch ms),
   * by their last change: what retention deletes. Oldest first.
   */
  finishedBefore(before: number): string[] {
    const out: string[] = [];
    for (const job of this.scheduler.visibleJobs()) {
      const r = job.record;
      const finished = r.state === 'done' || (r.state === 'cancelled' && !job.cancelling);
      if (finished && r.modified < before) out.push(r.id);
    }
    return out;
  }

  /** The counts /metrics exports: O(workers + jobs) at each scrape, nothing on the task path. */
  metrics(): GridMetrics {
    const scheduler = this.scheduler;
    let threads = 0;
    for (const worker of scheduler.workers.all()) threads += worker.threads;
    let queued = 0;
    let inFlight = 0;
    const runnable = scheduler.runnableJobs();
    for (const job of runnable) {
      const r = job.record;
      const held = job.held.inFlight;
      inFlight += held;
      queued += Math.max(0, r.total - r.finished - r.failed - held);
    }
    return {
      workers: scheduler.workers.size,
      threads,
      workersJoined: this.joined,
      workersLeft: this.left,
      queued,
      inFlight,
      jobs: { runnable: runnable.length, total: scheduler.visibleJobs().length },
      delivery: scheduler.stats,
      settled: scheduler.settlement.counts,
    };
  }

  close(): void {
    this.scheduler.close();
  }
}
