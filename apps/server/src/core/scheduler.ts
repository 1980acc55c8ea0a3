import { randomUUID } from 'node:crypto';
import { socketFormToJson } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { MAX_VALUE_DEPTH, checkDepth } from '@tabgrid/protocol/limits';
import type { CreateJobRequest, JobInfo } from '@tabgrid/protocol/jobs';
import type { Caller } from '../auth/caller.js';
import type { LeaseTable } from '../leases/lease-table.js';
import { MemoryLeaseTable } from '../leases/memory-lease-table.js';
import type { CarriedValue, JobCode, JobRecord, JobStore } from '../store/job-store.js';
import { FINISHED_POINTS } from '../telemetry/rate-series.js';
import type { StatsCollector } from '../telemetry/stats-collector.js';
import { collectStats } from './collect-stats.js';
import { WorkerMonitor } from '../telemetry/worker-monitor.js';
import { settleCancelled } from './cancel-sweep.js';
import { checkProgram } from './check-program.js';
import type { ClusterLink } from './cluster-link.js';
import { ClusterJobs } from './cluster-jobs.js';
import { encodeTasks } from './encode-tasks.js';
import { loadJobs } from './load-jobs.js';
import { systemClock, systemRandom, type Clock } from './clock.js';
import { DeliveryCounters } from './delivery-counters.js';
import { Dispatcher } from './dispatcher.js';
import { limitFrame, type CancelReason } from './frames.js';
import type { JobDirectory } from './job-directory.js';
import { newJobRecord } from './job-record.js';
import { JobLog } from './job-log.js';
import { JobRuntime } from './job-runtime.js';
import { OutcomeStreams } from './outcome-streams.js';
import { ProgressBoard } from './progress-board.js';
import {
  DEFAULT_MAX_CRASHES,
  DEFAULT_PAUSE_AFTER_CRASHED_TASKS,
  type DeliveryStats,
  type SchedulerOptions,
} from './scheduling-options.js';
import { SandboxFaultReports } from './sandbox-faults.js';
import { DEFAULT_MAX_SERIES_BYTES_PER_JOB, SeriesSink } from './series-sink.js';
import { Settlement } from './settlement.js';
import { TaskFeeds } from './task-feeds.js';
import { WorkerRegistry } from './worker-registry.js';

/**
 * Owns every job's runtime state and enforces the delivery rules: each (job, index) settles
 * exactly once, lost or timed-out tasks go back to the queue until `maxAttempts`, and a job
 * is done once closed and fully settled. Framework-free: routes call it, it calls the store.
 */
export class Scheduler implements JobDirectory {
  readonly workers: WorkerRegistry;
  readonly streams: OutcomeStreams;
  readonly dispatcher: Dispatcher;
  readonly statsCollector: StatsCollector;
  readonly leases: LeaseTable;
  readonly settlement: Settlement;
  /** Running tasks' latest progress (memory only; the progress feed reads it). */
  readonly progressBoard: ProgressBoard;
  /** The workers' samples and the jobs' usage. */
  readonly monitor: WorkerMonitor;
  /** Reports, logs, events, messages, notes and the feeds that follow them (issue 13). */
  readonly feeds: TaskFeeds;
  private readonly counters = new DeliveryCounters();
  readonly clock: Clock;
  private readonly jobLog: JobLog;
  private readonly jobs = new Map<string, JobRuntime>();
  private _closed = false;
  /** The other nodes on this database, when there are (issue 15); none for a node alone. */
  readonly cluster: ClusterLink | undefined;
  /** Its jobs' side of several nodes (./cluster-jobs.ts), with {@link cluster}. */
  readonly clustered: ClusterJobs | undefined;

  private constructor(
    readonly store: JobStore,
    options: Omit<SchedulerOptions, 'store'>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.cluster = options.cluster;
    this.clustered = options.cluster ? new ClusterJobs(options.cluster, this) : undefined;
    this.jobLog = new JobLog(options.log);
    this.leases = new MemoryLeaseTable();
    this.workers = new WorkerRegistry(this.leases, options.sameAddressDistinct ?? false);
    this.streams = new OutcomeStreams(store, (id) => this.jobs.get(id));
    this.progressBoard = new ProgressBoard(this.clock, this);
    this.monitor = new WorkerMonitor({ workers: this.workers, jobs: this }, this.clock);
    this.feeds = new TaskFeeds({
      store,
      clock: this.clock,
      jobs: this,
      workers: this.workers,
      board: this.progressBoard,
      counters: this.counters,
    });
    const maxSeriesBytes = options.maxSeriesBytesPerJob ?? DEFAULT_MAX_SERIES_BYTES_PER_JOB;
    const series = new SeriesSink({
      maxBytesPerJob: maxSeriesBytes,
      limitReached: (jobId) => this.workers.sendToHolders(jobId, limitFrame(jobId, maxSeriesBytes)),
    });
    this.settlement = new Settlement({
      store,
      leases: this.leases,
      clock: this.clock,
      random: options.random ?? systemRandom,
      streams: { pump: (id) => this.pumpStreams(id), watching: (id) => this.streams.watching(id) },
      log: this.jobLog.log,
      events: {
        finished: (job) => this.finish(job, true),
        requeued: () => this.dispatcher.schedule(),
        stop: (job, reason) => this.stopJob(job, reason),
      },
      ...(this.clustered ? { cluster: this.clustered } : {}),
      maxCrashes: options.maxCrashes ?? DEFAULT_MAX_CRASHES,
      pauseAfterCrashedTasks: options.pauseAfterCrashedTasks ?? DEFAULT_PAUSE_AFTER_CRASHED_TASKS,
      board: this.progressBoard,
      series,
    });
    this.dispatcher = new Dispatcher({
      jobs: this,
      workers: this.workers,
      leases: this.leases,
      settlement: this.settlement,
      counters: this.counters,
      faults: new SandboxFaultReports(store, this.counters, this.clock),
      clock: this.clock,
      monitor: this.monitor,
      reports: this.feeds.reports,
      operator: options.operator,
    });
    this.statsCollector = collectStats(this);
  }

  /** Closed: nothing more runs here. */
  get closed(): boolean {
    return this._closed;
  }

  /** Adds a job another node created (several nodes; ./cluster-jobs.ts). */
  adoptJob(job: JobRuntime): void {
    this.jobs.set(job.record.id, job);
  }

  /** Drops a job (deleted here, or by another node), its streams ended. */
  dropJob(job: JobRuntime): void {
    this.retire(job, 'deleted');
    this.jobs.delete(job.record.id);
    this.streams.endJob(job.record.id, 'deleted');
    this.feeds.streams.endJob(job.record.id, 'deleted');
  }

  /** Counters of outcomes that arrived but were not used (a copy). */
  get stats(): DeliveryStats {
    return this.counters.snapshot();
  }

  /** Tasks settled since start (for throughput). */
  get settledTotal(): number {
    return this.settlement.settledTotal;
  }

  /** A job's runtime for a record: runnable jobs get their entry in the lease table. */
  runtime(record: JobRecord, code?: JobCode): JobRuntime {
    const runnable = record.state === 'open' || record.state === 'closed';
    return new JobRuntime(
      record,
      this.store,
      code,
      runnable ? this.leases.openJob(record.id) : undefined,
      this.clustered?.claimer(record.id),
    );
  }

  /** Loads every job from the store (./load-jobs.ts) and starts dispatching. */
  static async open({ store, ...options }: SchedulerOptions): Promise<Scheduler> {
    const scheduler = new Scheduler(store, options);
    await loadJobs(scheduler, store);
    scheduler.dispatcher.schedule();
    return scheduler;
  }

  /** Any job by id, whoever owns it (for worker traffic, which is not on behalf of a caller). */
  findJob(jobId: string): JobRuntime | undefined {
    return this.jobs.get(jobId);
  }

  /** Jobs that may have tasks out or to dispatch. */
  runnableJobs(): JobRuntime[] {
    return [...this.jobs.values()].filter((job) => job.queue !== undefined);
  }

  // ---- jobs ---------------------------------------------------------------------------

  async createJob(caller: Caller, req: CreateJobRequest): Promise<JobInfo> {
    checkProgram(req.program);
    const record = newJobRecord(randomUUID(), caller.owner, req, this.clock.now());
    checkDepth(req.args, MAX_VALUE_DEPTH, { what: 'job args', code: ErrorCode.INVALID_REQUEST });
    const code = { program: req.program, argsJson: socketFormToJson(req.args) };
    await this.store.createJob(record, code);
    const job = this.runtime(record, code);
    this.jobs.set(record.id, job);
    this.cluster?.announce('job', record.id);
    return job.info();
  }

  /** The caller's job, or TG_ERR_JOB_NOT_FOUND (also for other owners' jobs: their existence is not revealed). */
  job(caller: Caller, jobId: string): JobRuntime {
    const job = this.jobs.get(jobId);
    if (!job || (!caller.seesAll && job.record.owner !== caller.owner)) {
      throw new TabgridError(
        ErrorCode.JOB_NOT_FOUND,
        `No job with id ${jobId}. List your jobs with GET /api/jobs.`,
      );
    }
    return job;
  }

  listJobs(caller: Caller): JobInfo[] {
    return this.visibleJobs(caller).map((job) => job.info());
  }

  /** The jobs `caller` may see, oldest first; every job without a caller. */
  visibleJobs(caller?: Caller): JobRuntime[] {
    const out: JobRuntime[] = [];
    for (const job of this.jobs.values()) {
      if (!caller || caller.seesAll || job.record.owner === caller.owner) out.push(job);
    }
    return out.sort((a, b) => a.record.created - b.record.created);
  }

  /**
   * Appends tasks (JSON values) and resolves once they are durable. A batch id seen before
   * returns the first submission's indexes instead of adding the tasks again.
   */
  submit(
    caller: Caller,
    jobId: string,
    batchId: string,
    tasks: unknown[],
  ): Promise<{ firstIndex: number; count: number }> {
    return this.submitEncoded(caller, jobId, batchId, encodeTasks(tasks));
  }

  /** Like {@link submit}, with each task already encoded (JSON text, or packed bytes). */
  async submitEncoded(
    caller: Caller,
    jobId: string,
    batchId: string,
    inputs: CarriedValue[],
  ): Promise<{ firstIndex: number; count: number }> {
    const job = this.job(caller, jobId);
    const pending = job.batches.get(batchId);
    if (pending) return pending;
    // Several nodes: the database's append answers a known batch id itself, in the same order.
    const known = this.clustered ? undefined : await this.store.findBatch(jobId, batchId);
    if (known) return known;
    const raced = job.batches.get(batchId);
    if (raced) return raced;
    if (job.record.state !== 'open') {
      throw new TabgridError(
        ErrorCode.JOB_NOT_OPEN,
        `Job ${jobId} is ${job.record.state}: tasks can only be added to an open job. Create a new job.`,
      );
    }
    if (this.clustered)
      return job.batches.track(batchId, this.clustered.submit(job, batchId, inputs));
    const now = this.clock.now();
    const firstIndex = job.addTasks(inputs.length, now);
    const committed = (async () => {
      await Promise.all([
        this.store.appendTasks(jobId, batchId, firstIndex, inputs, now),
        this.store.updateJob(job.record),
      ]);
      job.queue?.appended(firstIndex, inputs, now);
      // Dispatched now, ahead of the submitter's ack: on an idle grid this is a task's wait.
      this.dispatcher.pass.dispatchNow();
      return { firstIndex, count: inputs.length };
    })();
    return job.batches.track(batchId, committed);
  }

  /** No more tasks: the job is done once every task has settled. */
  async closeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const job = this.job(caller, jobId);
    if (job.record.state === 'open') {
      // Wait for batches still committing, so `total` is final when the job can finish.
      await Promise.allSettled(job.batches.all());
      if (this.clustered) return this.clustered.close(job);
      job.close(this.clock.now());
      if (job.complete) this.finish(job, true);
      await this.store.updateJob(job.record);
      this.pumpStreams(jobId);
    }
    return job.info();
  }

  /**
   * Cancels the job: nothing more is dispatched, and every task not settled yet settles as a
   * `cancelled` error (in pages, in the background, so a job of millions of tasks costs flat
   * memory); its streams end after the last of them.
   */
  async cancelJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const job = this.job(caller, jobId);
    if (job.runnable) {
      if (this.clustered) return this.clustered.cancel(job);
      job.cancel(this.clock.now());
      this.retire(job, 'cancelled');
      job.beginCancelSweep(); // before the update resolves: streams must not end early
      await this.store.updateJob(job.record);
      this.sweepCancelled(job);
    }
    return job.info();
  }

  /** `maxFailures` fired: cancelled as by its owner, `reason` in its record and streams' end. */
  stopJob(job: JobRuntime, reason: string): void {
    if (!job.runnable) return; // it finished (or was cancelled) meanwhile
    job.cancel(this.clock.now(), reason);
    this.jobLog.stopped(job, reason);
    if (this.clustered) {
      this.retire(job, 'cancelled');
      this.clustered.stop(job, reason);
      return;
    }
    this.retire(job, 'cancelled');
    this.sweepCancelled(job); // stores the record first, then settles the rest as `cancelled`
  }

  /** Settles a cancelled job's unsettled tasks as `cancelled` errors, then ends its streams. */
  sweepCancelled(job: JobRuntime): void {
    job.beginCancelSweep();
    settleCancelled(job, {
      store: this.store,
      settle: (outcomes) => this.settlement.record(job, outcomes, 0),
      stillThere: () => !this._closed && this.jobs.get(job.record.id) === job,
    })
      .catch((err: unknown) => this.jobLog.sweepFailed(job, err))
      .finally(() => {
        job.endCancelSweep();
        this.pumpStreams(job.record.id);
      });
  }

  /** Dispatch of a paused job starts again (its crash and fault counts start over). */
  async resumeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const job = this.job(caller, jobId);
    if (job.record.paused) {
      job.resume(this.clock.now());
      await this.store.updateJob(job.record);
      this.cluster?.announce('job', jobId);
      this.dispatcher.schedule();
    }
    return job.info();
  }

  async deleteJob(caller: Caller, jobId: string): Promise<void> {
    this.dropJob(this.job(caller, jobId));
    await this.store.deleteJob(jobId);
    this.cluster?.announce('deleted', jobId);
  }

  /** Deletes the caller's own jobs (an admin's too: other owners' jobs are theirs to delete). */
  async deleteJobs(caller: Caller): Promise<number> {
    const mine = [...this.jobs.values()].filter((job) => job.record.owner === caller.owner);
    await Promise.all(mine.map((job) => this.deleteJob(caller, job.record.id)));
    return mine.length;
  }

  /**
   * The job runs no more: its leases are released (replicas still out too, so their workers no
   * longer count them as held; answers to them count as duplicates), its runnable state is
   * dropped, and workers that have its program drop it.
   */
  retire(job: JobRuntime, reason: CancelReason): void {
    const runnable = job.queue !== undefined;
    this.leases.closeJob(job.held);
    job.retire();
    this.dispatcher.pass.forgetJob(job.record.id, reason);
    if (runnable) this.clustered?.retired(job);
  }

  /** Outcomes of `jobId` became durable, or its state changed: every stream of it reads on. */
  pumpStreams(jobId: string): void {
    this.streams.pump(jobId);
    this.feeds.streams.pump(jobId);
  }

  finish(job: JobRuntime, finishedNow = false): void {
    if (finishedNow) this.jobLog.done(job); // not one loaded finished at start
    // A redundancy job may still have surplus replicas out: retiring releases them.
    this.statsCollector.finished(job, FINISHED_POINTS); // its series is kept, thinned, as long as the job is
    job.markDone(); // nothing left to dispatch
    this.retire(job, 'done');
  }

  close(): void {
    this._closed = true;
    this.dispatcher.stop();
    this.statsCollector.stop();
    this.progressBoard.close();
    this.feeds.close();
    this.streams.closeAll();
  }
}
