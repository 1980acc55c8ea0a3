/**
 * The one settlement path. An answered lease, a lost or timed-out one, a crashed tab, a swallowed
 * lease, a replica's vote and a cancel sweep all end here: a task either goes back to its queue
 * (an attempt counted, or a retry after a backoff) or settles exactly once, durable before any
 * stream sees it.
 */
import type { TaskErrorType, TaskFailure } from '@tabgrid/protocol/jobs';
import type { ReportSeries } from '@tabgrid/protocol/task-reports';
import type { WorkerFailure, WorkerOutcome } from '@tabgrid/protocol/worker';
import type { Lease, LeaseTable } from '../leases/lease-table.js';
import { carriedText, packValue, type CarriedValue } from '@tabgrid/protocol/packed-value';
import type { JobStore, StoredOutcome, StoredTask } from '../store/job-store.js';
import type { Clock, RandomSource } from './clock.js';
import type { ClusterJobs } from './cluster-jobs.js';
import { errorDetails, type CoreLog } from './core-log.js';
import { crashed, failedAttempts, pausedReason, unstorableResult } from './failures.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import type { ProgressBoard } from './progress-board.js';
import { retryDelayMs } from './retry-backoff.js';
import type { SeriesSink } from './series-sink.js';
import { SettleCounts } from './settle-counts.js';

/** What settlement tells the rest of the core. */
export interface SettlementEvents {
  /** The job is closed and every task settled (called before its outcomes are durable). */
  finished(job: JobRuntime): void;
  /** A task is back in a queue after its backoff: run a dispatch pass. */
  requeued(): void;
  /** `maxFailures` fired for the job (its first N tasks failed alike): cancel it with `reason`. */
  stop(job: JobRuntime, reason: string): void;
}

/** Longest queued time a provenance carries (its schema's bound: ten years). */
const MAX_QUEUED_MS = 10 * 366 * 86_400_000;

/** The time from a task's submission to the dispatch of `lease` (null when unknown). */
function queuedMs(lease: Lease): number | null {
  const submittedAt = lease.task.submittedAt;
  if (submittedAt === undefined) return null;
  return Math.min(MAX_QUEUED_MS, Math.max(0, lease.grant.grantedAt - submittedAt));
}

/** The outcome streams, as far as settlement needs them. */
export interface DurableOutcomes {
  /** New outcomes of `jobId` are durable. */
  pump(jobId: string): void;
  /** Whether any stream reads `jobId`. */
  watching(jobId: string): boolean;
}

export interface SettlementDeps {
  store: JobStore;
  leases: LeaseTable;
  clock: Clock;
  random: RandomSource;
  streams: DurableOutcomes;
  events: SettlementEvents;
  /** Losses of its tab (while running alone) after which a task settles as `lost`. */
  maxCrashes: number;
  /** Tasks settled lost that way after which their job is paused. */
  pauseAfterCrashedTasks: number;
  /** Running tasks' progress: a settled task's entry goes. */
  board: ProgressBoard;
  /** Collected series, checked and stored with their outcomes. */
  series: SeriesSink;
  log: CoreLog;
  /** One of several nodes (issue 15): outcomes are stored there instead (./cluster-jobs.ts). */
  cluster?: { record: ClusterJobs['record'] };
}

export class Settlement {
  /** Tasks settled since start (for throughput). */
  private settledCount = 0;
  /** Outcomes by type and the dispatch and settle latencies (the metrics endpoint reads them). */
  readonly counts = new SettleCounts();

  constructor(private readonly deps: SettlementDeps) {}

  get settledTotal(): number {
    return this.settledCount;
  }

  /** Running tasks' progress (the stall check's progress timeout reads it). */
  get board(): ProgressBoard {
    return this.deps.board;
  }

  /** Losses of its tab (while running alone) after which a task of `job` settles as `lost`. */
  crashLimit(job: JobRuntime): number {
    return Math.min(this.deps.maxCrashes, job.record.maxAttempts);
  }

  /** Ends a lease (the holder answered it, or it was taken back); returns its task. */
  release(lease: Lease, answered: boolean): StoredTask {
    this.deps.leases.release(lease, answered, this.deps.clock.now());
    return lease.task;
  }

  /**
   * The holder of exclusive lease `lease` answered `item`: the lease ends, and the outcome goes
   * to `into` when it settles the task (a retry or a requeue adds nothing).
   */
  accept(job: JobRuntime, lease: Lease, item: WorkerOutcome, into: Settled[]): void {
    // Encoded before the lease is touched: a value that cannot be stored fails its task. A
    // binary frame's typed arrays (views into it) are packed as bytes, never base64'd.
    let payload: CarriedValue | undefined;
    let unstorable: unknown;
    if (item.ok) {
      try {
        payload = packValue(item.value);
      } catch (err) {
        unstorable = err;
      }
    }
    const task = this.release(lease, true);
    let settled: Settled | undefined;
    const runMs = item.ms;
    if (item.ok && payload !== undefined) {
      // The plain path: one check for series, and the lease and run time kept for provenance.
      if (item.series === undefined) {
        into.push({
          index: item.index,
          ok: true,
          payload,
          value: item.value ?? null,
          lease,
          runMs,
        });
        return;
      }
      settled = { index: item.index, ok: true, payload, value: item.value ?? null, lease, runMs };
    } else if (item.ok) {
      const { name, message, stack } = unstorableResult(item.index, unstorable);
      settled = this.programError(job, task, { name, message, stack });
    } else if (item.error.timedOut) {
      settled = this.failAttempt(job, task, 'timeout', item.error.message);
    } else {
      const { name, message, stack } = item.error;
      settled = this.programError(job, task, { name, message, stack });
    }
    if (!settled) return; // runs again: this attempt's series go with it
    settled.lease = lease;
    settled.runMs = runMs;
    if (item.series !== undefined) this.withSeries(job, settled, item.series);
    into.push(settled);
  }

  /**
   * `settled` settles its task with what the answer `series` collected (checked and charged
   * to the job by the series sink): they are stored in the same commit. For a redundancy job,
   * the series of the replica whose answer completed the quorum.
   */
  withSeries(job: JobRuntime, settled: Settled, series: readonly ReportSeries[]): void {
    const kept = this.deps.series.take(job, series);
    if (kept) settled.series = kept;
  }

  /**
   * The holder of `lease` could not run its task because Setup failed on its thread (threw, or
   * did not finish within setupTimeoutMs). That counts an attempt (not a `retryErrors` retry):
   * the task goes back to the queue (the dispatcher keeps it off that connection), and once its
   * attempts are spent it settles as a `setup` error carrying Setup's own name, message and stack.
   */
  failSetup(job: JobRuntime, lease: Lease, error: WorkerFailure, into: Settled[]): void {
    const task = this.release(lease, true);
    const index = task.index;
    if (lease.replica) {
      const failed = this.loseReplica(job, lease.grant.owner.identity, index, 'lost');
      if (failed) into.push(failed);
      return;
    }
    // It never ran: a suspect (one that was on a crashed tab) still runs alone next time.
    if (this.spendAttempt(job, task, job.record.maxAttempts, lease.suspect) === undefined) return;
    const { name, message, stack } = error;
    const failure: TaskFailure = { name, message, stack, type: 'setup' };
    into.push({ index, ok: false, payload: JSON.stringify(failure), lease });
  }

  /** Records settled outcomes of one job; streams see them once they are durable. */
  record(job: JobRuntime, outcomes: Settled[], computeMs: number): void {
    if (outcomes.length === 0) return;
    const { store, streams, clock } = this.deps;
    const record = job.record;
    const now = clock.now();
    // Plain literals, not `{ ...o }`: this runs for every outcome and spreads are slow here.
    const stored: StoredOutcome[] = new Array<StoredOutcome>(outcomes.length);
    const tries = job.tries;
    const retried = tries.any;
    const counts = this.counts;
    let results = 0;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      const lease = o.lease;
      if (o.ok) results++;
      else counts.countFailure(carriedText(o.payload));
      const queued = lease === undefined ? null : queuedMs(lease);
      if (lease !== undefined)
        counts.settleLatency.observe(Math.max(0, now - lease.grant.grantedAt));
      if (queued !== null) counts.dispatchLatency.observe(queued);
      // Tries before this one (lost, timed out, retried), plus this one when it ran.
      let attempt = lease === undefined ? 0 : 1;
      if (retried) {
        attempt += tries.attemptsOf(o.index) + tries.errorRetriesOf(o.index);
        tries.forget(o.index);
      }
      stored[i] = {
        seq: job.countSettled(o.ok),
        index: o.index,
        ok: o.ok,
        payload: o.payload,
        // A few numbers per outcome, always stored: readers that ask for them get them later.
        provenance: {
          workerId: lease === undefined ? null : lease.grant.owner.connection,
          attempt,
          runMs: o.runMs ?? null,
          queuedMs: queued,
        },
      };
    }
    job.noteSettled(computeMs, now);
    this.settledCount += stored.length;
    counts.results += results;
    // Once per batch each: nothing per outcome unless some task collected or reported progress.
    const series = this.deps.series.pending ? this.deps.series.lines(outcomes, stored) : undefined;
    if (this.deps.board.size !== 0) this.deps.board.settled(record.id, outcomes);
    if (this.deps.cluster) return this.deps.cluster.record(job, outcomes, stored, series);
    if (job.complete) this.deps.events.finished(job);
    const seq = record.lastSeq;
    Promise.all([store.settle(record.id, stored, series), store.updateJob(record)]).then(
      () => {
        // Nothing thrown here may escape as an unhandled rejection: each step guards itself
        // (remember, the streams' pumps), and this catch is the last net.
        try {
          job.remember(stored, outcomes);
          job.markDurable(seq);
          streams.pump(record.id);
          // A finished job nobody is reading keeps nothing in memory (late readers use the store).
          if (job.streamsFinished && !streams.watching(record.id)) job.forgetRecent();
        } catch (err) {
          this.deps.log.error(
            { job: record.id, ...errorDetails(err) },
            'could not deliver outcomes',
          );
        }
      },
      (err: unknown) =>
        this.deps.log.error({ job: record.id, ...errorDetails(err) }, 'could not store outcomes'),
    );
    // maxFailures: only while the job's first settled tasks have all failed alike (else off).
    if (job.watchingFailures) {
      const reason = job.watchFailures(outcomes);
      if (reason !== undefined) this.deps.events.stop(job, reason);
    }
  }

  /**
   * A task failed without an answer: it ran out of time or its live worker never answered it
   * (`timeout` / `lost`, up to `maxAttempts`), or its tab dropped while it ran there alone
   * (`crash`: maybe its own doing; up to {@link crashLimit}, settling as `lost`, and counting
   * towards pausing its job). It goes back to the queue until then (to its job's suspects with
   * `asSuspect`), and settles as an error after.
   */
  failAttempt(
    job: JobRuntime,
    task: StoredTask,
    kind: Extract<TaskErrorType, 'lost' | 'timeout'> | 'crash',
    detail: string,
    asSuspect = false,
    lease?: Lease,
  ): Settled | undefined {
    const limit = kind === 'crash' ? this.crashLimit(job) : job.record.maxAttempts;
    const attempts = this.spendAttempt(job, task, limit, asSuspect);
    if (attempts === undefined) return undefined;
    let failure: TaskFailure;
    if (kind === 'crash') {
      failure = crashed(task.index, attempts, limit, detail);
      this.noteCrashed(job);
    } else failure = failedAttempts(task.index, kind, attempts, job.record.maxAttempts, detail);
    const settled: Settled = { index: task.index, ok: false, payload: JSON.stringify(failure) };
    if (lease) settled.lease = lease; // the attempt that was lost or timed out (provenance)
    return settled;
  }

  /**
   * Counts one more failed attempt of `task`: while under `limit` it goes back to the queue (to
   * its job's suspects with `asSuspect`) and this returns undefined; at the limit it returns the
   * attempts, and the caller settles the task.
   */
  private spendAttempt(
    job: JobRuntime,
    task: StoredTask,
    limit: number,
    asSuspect: boolean,
  ): number | undefined {
    const attempts = job.tries.attemptsOf(task.index) + 1;
    if (attempts >= limit) return attempts;
    job.tries.countAttempt(task.index, attempts);
    this.saveTries(job, task.index);
    if (asSuspect) job.suspect(task);
    else job.queue?.requeue(task);
    return undefined;
  }

  /**
   * `Run` threw. With `retryErrors`, the task runs again after an exponential backoff with
   * jitter (100 ms, 200 ms, 400 ms … capped at 30 s, each ×0.5–1.5), off the queue meanwhile so
   * a poison task never holds up the rest of its job. Returns the outcome once the error is final.
   */
  programError(
    job: JobRuntime,
    task: StoredTask,
    error: { name: string; message: string; stack: string },
  ): Settled | undefined {
    const retries = job.tries.errorRetriesOf(task.index);
    if (retries < job.record.retryErrors) {
      const delay = retryDelayMs(retries, this.deps.random());
      job.retryError(task, retries + 1, delay, this.deps.clock, this.deps.events);
      this.saveTries(job, task.index);
      return undefined;
    }
    const failure: TaskFailure = { ...error, type: 'program' };
    return { index: task.index, ok: false, payload: JSON.stringify(failure) };
  }

  /**
   * A replica will not answer (its worker vanished, timed out or swallowed it): run it
   * elsewhere, or settle it once the job's replica losses reach their limit.
   */
  loseReplica(
    job: JobRuntime,
    identity: string,
    index: number,
    type: 'lost' | 'timeout',
  ): Settled | undefined {
    const quorum = job.quorum;
    if (!quorum) return undefined;
    const task = quorum.lost(index, identity, job.record.maxAttempts * job.record.maxReplicas);
    if (task) {
      job.queue?.requeue(task);
      return undefined;
    }
    const failure: TaskFailure = {
      name: type === 'timeout' ? 'TimeoutError' : 'LostError',
      message: `Task ${index}: its replicas were ${type === 'timeout' ? 'timed out' : 'lost'} too many times.`,
      stack: '',
      type,
    };
    return { index, ok: false, payload: JSON.stringify(failure) };
  }

  /** One more task of `job` settled lost by crashing: too many pause the job. */
  private noteCrashed(job: JobRuntime): void {
    const record = job.record;
    const crashedTasks = job.countCrashed();
    if (record.paused || crashedTasks < this.deps.pauseAfterCrashedTasks) return;
    // Its time is the settle's, which follows at once (this task's outcome is part of it).
    job.pause(pausedReason(crashedTasks, this.crashLimit(job)), this.deps.clock.now());
    this.deps.log.warn({ job: record.id, name: record.name, reason: record.paused }, 'job paused');
  }

  /** Saves a task's failure counts, so a restart does not reset them (failures are rare). */
  private saveTries(job: JobRuntime, index: number): void {
    const tries = job.tries.saved(index);
    this.deps.store.saveTries(job.record.id, index, tries).catch((err: unknown) => {
      console.error(
        `tabgrid: could not save the tries of task ${index} of job ${job.record.id}:`,
        err,
      );
    });
  }
}
