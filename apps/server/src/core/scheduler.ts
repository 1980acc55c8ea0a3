import { randomUUID } from 'node:crypto';
import { socketFormToJson } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { MAX_VALUE_DEPTH, checkDepth } from '@tabgrid/protocol/limits';
import {
  JOB_DEFAULTS,
  type CreateJobRequest,
  type JobInfo,
  type TaskErrorType,
  type TaskFailure,
} from '@tabgrid/protocol/jobs';
import type { Caller } from '../auth/caller.js';
export type { Caller } from '../auth/caller.js';
import type { JobRecord, JobStore, StoredOutcome } from '../store/job-store.js';
import type { Settled } from './job-runtime.js';

import { settleCancelled } from './cancel-sweep.js';
import { retryDelayMs } from './retry-backoff.js';
import {
  DEFAULT_MAX_CRASHES,
  DEFAULT_PAUSE_AFTER_CRASHED_TASKS,
  type DeliveryStats,
  type SchedulerOptions,
} from './scheduling-options.js';
import { checkProgram } from './check-program.js';
import { Dispatcher } from './dispatcher.js';
import { crashed, failedAttempts, pausedReason } from './failures.js';
import { JobRuntime, type Lease } from './job-runtime.js';
import { OutcomeStreams } from './outcome-streams.js';
import { FINISHED_POINTS } from '../telemetry/rate-series.js';
import { StatsCollector } from '../telemetry/stats-collector.js';
import { WorkerRegistry } from './worker-registry.js';

/** Distinct worker identities whose reports of sandbox tampering pause a job. */
export const SANDBOX_FAULT_REPORTERS = 3;

/** How a task nested too deep is refused (one object for every task of every batch). */
const TASK_DEPTH = { what: 'task', code: ErrorCode.INVALID_TASK } as const;

/**
 * Owns every job's runtime state and enforces the delivery rules: each (job, index) settles
 * exactly once, lost or timed-out tasks go back to the queue until `maxAttempts`, and a job
 * is done once closed and fully settled. Framework-free: routes call it, it calls the store.
 */
export class Scheduler {
  readonly workers: WorkerRegistry;
  readonly streams: OutcomeStreams;
  readonly dispatcher: Dispatcher;
  readonly stats: DeliveryStats = {
    duplicates: 0,
    dropped: 0,
    forged: 0,
    sandboxFaults: 0,
    excludedWorkers: 0,
  };
  private readonly random: () => number;
  private readonly maxCrashes: number;
  private readonly pauseAfterCrashedTasks: number;

  readonly statsCollector: StatsCollector;
  /** Tasks settled since start (for throughput). */
  settledTotal = 0;
  private readonly jobs = new Map<string, JobRuntime>();
  private closed = false;

  private constructor(
    readonly store: JobStore,
    options: Omit<SchedulerOptions, 'store'>,
  ) {
    this.workers = new WorkerRegistry(options.sameAddressDistinct ?? false);
    this.random = options.random ?? Math.random;
    this.maxCrashes = options.maxCrashes ?? DEFAULT_MAX_CRASHES;
    this.pauseAfterCrashedTasks =
      options.pauseAfterCrashedTasks ?? DEFAULT_PAUSE_AFTER_CRASHED_TASKS;
    this.streams = new OutcomeStreams(store, (id) => this.jobs.get(id));
    this.dispatcher = new Dispatcher(this, this.workers);
    this.statsCollector = new StatsCollector(this);
  }

  /** Loads every job from the store; runnable jobs get their queues back (leases held at a crash are simply queued again). */
  static async open({ store, ...options }: SchedulerOptions): Promise<Scheduler> {
    const scheduler = new Scheduler(store, options);
    for (const record of await store.listJobs()) {
      const runnable = record.state === 'open' || record.state === 'closed';
      const code = runnable ? await store.getJobCode(record.id) : undefined;
      const job = new JobRuntime(record, store, code);
      if (job.queue) {
        for (const [index, tries] of await store.readTries(record.id)) {
          if (tries.attempts > 0) job.attempts.set(index, tries.attempts);
          if (tries.errorRetries > 0) job.errorRetries.set(index, tries.errorRetries);
        }
      }
      scheduler.jobs.set(record.id, job);
      if (job.complete) scheduler.finish(job);
      // Cancelled while its unsettled tasks were being settled as `cancelled`: carry on.
      if (record.state === 'cancelled' && job.settled < record.total) scheduler.sweepCancelled(job);
    }
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

  /** Losses of its tab (while running alone) after which a task of `job` settles as `lost`. */
  crashLimit(job: JobRuntime): number {
    return Math.min(this.maxCrashes, job.record.maxAttempts);
  }

  // ---- jobs ---------------------------------------------------------------------------

  async createJob(caller: Caller, req: CreateJobRequest): Promise<JobInfo> {
    checkProgram(req.program);
    const redundancy = req.redundancy ?? JOB_DEFAULTS.redundancy;

    const now = Date.now();
    const record: JobRecord = {
      id: randomUUID(),
      owner: caller.owner,
      name: req.name ?? 'job',
      group: req.group ?? null,
      state: 'open',
      timeoutMs: req.timeoutMs ?? JOB_DEFAULTS.timeoutMs,
      maxAttempts: req.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
      retryErrors: req.retryErrors ?? JOB_DEFAULTS.retryErrors,
      redundancy,
      maxReplicas: Math.max(redundancy, req.maxReplicas ?? redundancy + 2),
      disagreements: 0,
      priority:
        req.priority ?? (req.bid === undefined ? JOB_DEFAULTS.priority : Math.round(req.bid)),
      total: 0,
      finished: 0,
      failed: 0,
      computeMs: 0,
      created: now,
      modified: now,
      lastResult: null,
      lastSeq: 0,
    };
    checkDepth(req.args, MAX_VALUE_DEPTH, { what: 'job args', code: ErrorCode.INVALID_REQUEST });
    const code = { program: req.program, argsJson: socketFormToJson(req.args) };
    await this.store.createJob(record, code);
    const job = new JobRuntime(record, this.store, code);
    this.jobs.set(record.id, job);
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
    return this.submitEncoded(
      caller,
      jobId,
      batchId,
      // Typed arrays arrive as socket.io binary attachments; stored in the text form. A task
      // nests no deeper than a tab may answer (a Run that returns its input must be able to).
      tasks.map((task) => {
        if (typeof task === 'object') checkDepth(task, MAX_VALUE_DEPTH, TASK_DEPTH);
        return socketFormToJson(task);
      }),
    );
  }

  /** Like {@link submit}, with each task already encoded as JSON text. */
  async submitEncoded(
    caller: Caller,
    jobId: string,
    batchId: string,
    inputs: string[],
  ): Promise<{ firstIndex: number; count: number }> {
    const job = this.job(caller, jobId);
    const pending = job.pendingBatches.get(batchId);
    if (pending) return pending;
    const known = await this.store.findBatch(jobId, batchId);
    if (known) return known;
    const raced = job.pendingBatches.get(batchId);
    if (raced) return raced;
    if (job.record.state !== 'open') {
      throw new TabgridError(
        ErrorCode.JOB_NOT_OPEN,
        `Job ${jobId} is ${job.record.state}: tasks can only be added to an open job. Create a new job.`,
      );
    }
    const firstIndex = job.nextIndex;
    job.nextIndex += inputs.length;
    const committed = (async () => {
      job.record.total = job.nextIndex;
      job.record.modified = Date.now();
      await Promise.all([
        this.store.appendTasks(jobId, batchId, firstIndex, inputs),
        this.store.updateJob(job.record),
      ]);
      job.queue?.appended(firstIndex, inputs);
      // Dispatched now, ahead of the submitter's ack: on an idle grid this is a task's wait.
      this.dispatcher.dispatchNow();
      return { firstIndex, count: inputs.length };
    })();
    job.pendingBatches.set(batchId, committed);
    try {
      return await committed;
    } finally {
      job.pendingBatches.delete(batchId);
    }
  }

  /** No more tasks: the job is done once every task has settled. */
  async closeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const job = this.job(caller, jobId);
    if (job.record.state === 'open') {
      // Wait for batches still committing, so `total` is final when the job can finish.
      await Promise.allSettled(job.pendingBatches.values());
      job.record.state = 'closed';
      job.record.modified = Date.now();
      if (job.complete) this.finish(job);
      await this.store.updateJob(job.record);
      this.streams.pump(jobId);
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
      job.record.state = 'cancelled';
      job.record.paused = null;
      job.record.modified = Date.now();
      this.releaseLeases(job);
      job.retire();
      this.dispatcher.forgetJob(jobId);
      job.cancelling = true; // before the update resolves: streams must not end early
      await this.store.updateJob(job.record);
      this.sweepCancelled(job);
    }
    return job.info();
  }

  /** Settles a cancelled job's unsettled tasks as `cancelled` errors, then ends its streams. */
  private sweepCancelled(job: JobRuntime): void {
    job.cancelling = true;
    settleCancelled(job, {
      store: this.store,
      settle: (outcomes) => this.settle(job, outcomes, 0),
      stillThere: () => !this.closed && this.jobs.get(job.record.id) === job,
    })
      .catch((err: unknown) =>
        console.error(
          `tabgrid: could not settle the tasks of cancelled job ${job.record.id}:`,
          err,
        ),
      )
      .finally(() => {
        job.cancelling = false;
        this.streams.pump(job.record.id);
      });
  }

  /** Dispatch of a paused job starts again (its crash and fault counts start over). */
  async resumeJob(caller: Caller, jobId: string): Promise<JobInfo> {
    const job = this.job(caller, jobId);
    if (job.record.paused) {
      job.record.paused = null;
      job.record.crashedTasks = 0;
      job.faultReporters.clear();
      job.record.modified = Date.now();
      await this.store.updateJob(job.record);
      this.dispatcher.schedule();
    }
    return job.info();
  }

  async deleteJob(caller: Caller, jobId: string): Promise<void> {
    const job = this.job(caller, jobId);
    this.releaseLeases(job);
    job.retire();
    this.jobs.delete(jobId);
    this.dispatcher.forgetJob(jobId);
    this.streams.endJob(jobId, 'deleted');
    await this.store.deleteJob(jobId);
  }

  /** Deletes the caller's own jobs (an admin's too: other owners' jobs are theirs to delete). */
  async deleteJobs(caller: Caller): Promise<number> {
    const mine = [...this.jobs.values()].filter((job) => job.record.owner === caller.owner);
    await Promise.all(mine.map((job) => this.deleteJob(caller, job.record.id)));
    return mine.length;
  }

  // ---- settlement ---------------------------------------------------------------------

  /**
   * Removes a lease and returns its task (undefined when the task is not leased). `answered`:
   * its own worker's outcome arrived (the caller checked the lease was that worker's).
   */
  takeLease(job: JobRuntime, index: number, answered: boolean): Lease['task'] | undefined {
    const lease = job.leases.get(index);
    if (!lease) return undefined;
    job.leases.delete(index);
    const owner = this.workers.get(lease.workerId);
    if (owner) {
      owner.drop(job.record.id);
      owner.closeLease(lease.frame, answered, Date.now());
      const suspect = owner.suspect;
      if (suspect && suspect.index === index && suspect.jobId === job.record.id) {
        owner.suspect = undefined;
      }
    }
    return lease.task;
  }

  /** Records settled outcomes of one job; streams see them once they are durable. */
  settle(job: JobRuntime, outcomes: Settled[], computeMs: number): void {
    if (outcomes.length === 0) return;
    const record = job.record;
    const now = Date.now();
    // Plain literals, not `{ ...o }`: this runs for every outcome and spreads are slow here.
    const stored: StoredOutcome[] = new Array<StoredOutcome>(outcomes.length);
    const retried = job.attempts.size > 0 || job.errorRetries.size > 0;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) record.finished++;
      else record.failed++;
      if (retried) {
        job.attempts.delete(o.index);
        job.errorRetries.delete(o.index);
        job.crashedOn.delete(o.index);
      }
      stored[i] = { seq: ++record.lastSeq, index: o.index, ok: o.ok, payload: o.payload };
    }
    record.computeMs += computeMs;
    this.settledTotal += stored.length;
    record.lastResult = now;
    record.modified = now;
    if (job.complete) this.finish(job);
    const seq = record.lastSeq;
    Promise.all([this.store.settle(record.id, stored), this.store.updateJob(record)]).then(
      () => {
        // Nothing thrown here may escape as an unhandled rejection: each step guards itself
        // (remember, the streams' pumps), and this catch is the last net.
        try {
          job.remember(stored, outcomes);
          job.durableSeq = Math.max(job.durableSeq, seq);
          this.streams.pump(record.id);
          // A finished job nobody is reading keeps nothing in memory (late readers use the store).
          if (job.streamsFinished && !this.streams.watching(record.id)) job.recent = [];
        } catch (err) {
          console.error(`tabgrid: could not deliver outcomes of job ${record.id}:`, err);
        }
      },
      (err: unknown) =>
        console.error(`tabgrid: could not store outcomes of job ${record.id}:`, err),
    );
  }

  /**
   * A task failed without an answer: it ran out of time or its live worker never answered it
   * (`timeout` / `lost`, up to `maxAttempts`), or its tab dropped while it ran there alone
   * (`crash`: maybe its own doing; up to {@link crashLimit}, settling as `lost`, and counting
   * towards pausing its job). It goes back to the queue until then, and settles as an error after.
   */
  failAttempt(
    job: JobRuntime,
    task: Lease['task'],
    kind: Extract<TaskErrorType, 'lost' | 'timeout'> | 'crash',
    detail: string,
    requeue: (task: Lease['task']) => void = (again) => job.queue?.requeue(again),
  ): Settled | undefined {
    const attempts = (job.attempts.get(task.index) ?? 0) + 1;
    const limit = kind === 'crash' ? this.crashLimit(job) : job.record.maxAttempts;
    if (attempts < limit) {
      job.attempts.set(task.index, attempts);
      this.saveTries(job, task.index);
      requeue(task);
      return undefined;
    }
    let failure: TaskFailure;
    if (kind === 'crash') {
      failure = crashed(task.index, attempts, limit, detail);
      this.noteCrashed(job);
    } else failure = failedAttempts(task.index, kind, attempts, job.record.maxAttempts, detail);
    return { index: task.index, ok: false, payload: JSON.stringify(failure) };
  }

  /**
   * A worker page caught `job`'s code tampering with its sandbox (its tasks there already failed
   * as `SandboxViolation`). Tabs of {@link SANDBOX_FAULT_REPORTERS} distinct identities saying
   * so pause the job: no single host can pause another tenant's job by claiming it.
   */
  sandboxFault(job: JobRuntime, identity: string, detail: string): void {
    const record = job.record;
    this.stats.sandboxFaults++;
    // A repeat from one identity, or any report once paused, adds nothing (and no log line: a
    // worker may send these frames as fast as it likes).
    if (record.paused || !job.runnable || job.faultReporters.has(identity)) return;
    job.faultReporters.add(identity);
    console.error(
      `tabgrid: job ${record.id} (${record.name}): a worker page reports sandbox tampering: ${detail}`,
    );
    if (job.faultReporters.size < SANDBOX_FAULT_REPORTERS) return;
    record.paused = `Paused: the worker pages of ${job.faultReporters.size} volunteers caught this job's code tampering with its sandbox (what each saw is in the server log: a worker's words are not shown here). Fix the program, then resume or cancel the job.`;
    record.modified = Date.now();
    console.error(`tabgrid: job ${record.id} (${record.name}) paused: ${record.paused}`);
    this.store.updateJob(record).catch((err: unknown) => {
      console.error(`tabgrid: could not save the pause of job ${record.id}:`, err);
    });
  }

  /** One more task of `job` settled lost by crashing: too many pause the job. */
  private noteCrashed(job: JobRuntime): void {
    const record = job.record;
    record.crashedTasks = (record.crashedTasks ?? 0) + 1;
    if (record.paused || record.crashedTasks < this.pauseAfterCrashedTasks) return;
    record.paused = pausedReason(record.crashedTasks, this.crashLimit(job));
    console.error(`tabgrid: job ${record.id} (${record.name}) paused: ${record.paused}`);
  }

  /**
   * `Run` threw. With `retryErrors`, the task runs again after an exponential backoff with
   * jitter (100 ms, 200 ms, 400 ms … capped at 30 s, each ×0.5–1.5), off the queue meanwhile so
   * a poison task never holds up the rest of its job. Returns the outcome once the error is final.
   */
  programError(
    job: JobRuntime,
    task: Lease['task'],
    error: { name: string; message: string; stack: string },
  ): Settled | undefined {
    const retries = job.errorRetries.get(task.index) ?? 0;
    if (retries < job.record.retryErrors) {
      job.errorRetries.set(task.index, retries + 1);
      this.saveTries(job, task.index);
      const delay = retryDelayMs(retries, this.random());
      const timer = setTimeout(() => {
        job.retryTimers.delete(timer);
        job.queue?.requeue(task);
        this.dispatcher.schedule();
      }, delay);
      timer.unref();
      job.retryTimers.add(timer);
      return undefined;
    }
    const failure: TaskFailure = { ...error, type: 'program' };
    return { index: task.index, ok: false, payload: JSON.stringify(failure) };
  }

  /** Saves a task's failure counts, so a restart does not reset them (failures are rare). */
  private saveTries(job: JobRuntime, index: number): void {
    const tries = {
      attempts: job.attempts.get(index) ?? 0,
      errorRetries: job.errorRetries.get(index) ?? 0,
    };
    this.store.saveTries(job.record.id, index, tries).catch((err: unknown) => {
      console.error(
        `tabgrid: could not save the tries of task ${index} of job ${job.record.id}:`,
        err,
      );
    });
  }

  /**
   * Puts every lease of `job` back in its queue (or forgets them if the job is going away), and
   * takes back the replicas still out, so their workers no longer count them as held. Their
   * answers, if any come, count as duplicates.
   */
  private releaseLeases(job: JobRuntime): void {
    for (const [index] of job.leases) this.takeLease(job, index, false);
    for (const { workerId, hold } of job.quorum?.releaseWhere(() => true) ?? []) {
      const worker = this.workers.get(workerId);
      worker?.drop(job.record.id);
      worker?.closeLease(hold.frame, false, Date.now());
    }
  }

  private finish(job: JobRuntime): void {
    this.releaseLeases(job); // a redundancy job may still have surplus replicas out
    job.rates.thin(FINISHED_POINTS); // kept for the dashboard, as long as the job is
    job.record.state = 'done';
    job.record.paused = null; // nothing left to dispatch
    job.retire();
    this.dispatcher.forgetJob(job.record.id);
  }

  close(): void {
    this.closed = true;
    this.dispatcher.stop();
    this.statsCollector.stop();
    this.streams.closeAll();
  }
}
