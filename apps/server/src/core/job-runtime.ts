import type { Clock, TimerHandle } from './clock.js';
import type { JobInfo, Outcome } from '@tabgrid/protocol/jobs';
import type { StoredJobTally } from '@tabgrid/protocol/stored';
import type {
  JobCode,
  JobRecord,
  JobStore,
  StoredOutcome,
  StoredTask,
} from '../store/job-store.js';

export type { BatchAck } from './pending-batches.js';
import { JobLeases, type Lease } from '../leases/lease-table.js';
import { DurationHistogram } from '../telemetry/duration-histogram.js';
import { FailureWatch, type WatchedOutcome } from './failure-watch.js';
import { JobCounters } from './job-counters.js';
import { JobFeedsState } from './job-feeds-state.js';
import { jobInfo } from './job-info.js';
import { Quorum } from './quorum.js';
import { withRecent } from './recent-outcomes.js';
import type { TaskSeries } from './series-sink.js';
import { PendingBatches } from './pending-batches.js';
import { TaskQueue, type TaskClaimer } from './task-queue.js';
import { TaskTries } from './task-tries.js';

/** Outcomes kept in memory per job, so streams that keep up never read the store back. */
const RECENT_MAX = 20_000;

/**
 * An outcome about to be stored: `value` parsed when the caller has it, `series` collected;
 * its provenance from `lease` (of the attempt that settled it) and `runMs` (that worker's report).
 */
export type Settled = Omit<StoredOutcome, 'seq' | 'provenance'> & {
  value?: unknown;
  series?: TaskSeries[];
  lease?: Lease;
  runMs?: number;
};

/**
 * A job as the scheduler holds it: the durable record plus, while the job can still run
 * tasks, its code, queue and leases. Finished and cancelled jobs keep only the record.
 */
export class JobRuntime {
  private _code: JobCode | undefined;
  private _queue: TaskQueue | undefined;
  private _quorum: Quorum | undefined;
  /** Its leases: the lease table's entry for this job (the table changes it, nobody else). */
  readonly held: JobLeases;
  /** Failure counts of its unsettled tasks. */
  readonly tries = new TaskTries();
  /** Its task-model counters (Setup times, series, usage), in its record. */
  readonly counters: JobCounters;
  /** Its logs, events and messages (issue 13): durable seqs, messages kept for new threads. */
  readonly feeds: JobFeedsState;
  /**
   * Tasks that were out on a tab that dropped without handing them back (a crash, maybe theirs):
   * each runs next on a worker that holds nothing else, so only a loss while it runs alone is
   * charged to it, and the tasks that merely shared the tab are not.
   */
  private readonly _suspects = new Map<number, StoredTask>();
  /** Worker identities whose page reported this job's code tampering with its sandbox. */
  private readonly faultReporters = new Set<string>();
  private _drainer: string | undefined;
  private _cancelling = false;
  /** Backoff timers of tasks waiting to be retried. */
  private readonly retryTimers = new Set<TimerHandle>();
  /** Per-task compute times since the server started (the dashboard's histogram). */
  readonly durations = new DurationHistogram();
  private _recent: Outcome[] = [];
  private _durableSeq: number;
  private _nextIndex: number;
  /** Batches being committed, by id: a retried batch waits for the first instead of doubling. */
  readonly batches = new PendingBatches();
  private readonly _record: JobRecord;
  /** `maxFailures`'s watch, while it can fire. */
  private _failureWatch: FailureWatch | undefined;
  /**
   * With a claimer, one of several nodes runs the job (issue 15): its queue holds what this node
   * claimed, and its counters, state and durable seq follow the database ({@link applyTally}).
   */
  readonly clustered: boolean;

  constructor(
    record: JobRecord,
    store: JobStore,
    code?: JobCode,
    leases?: JobLeases,
    claimer?: TaskClaimer,
  ) {
    this._record = record;
    this.clustered = claimer !== undefined;
    this.counters = new JobCounters(record);
    this._durableSeq = record.lastSeq;
    this._nextIndex = record.total;
    this.held = leases ?? new JobLeases(record.id);
    this.feeds = new JobFeedsState(record);
    // Not once a task succeeded: the first N can no longer all have failed.
    if (record.maxFailures !== null && this.runnable && record.finished === 0)
      this._failureWatch = new FailureWatch(record.maxFailures);
    if (code && this.runnable) {
      this._code = code;
      this._queue = new TaskQueue(store, record.id, record.total, claimer);
      if (record.redundancy > 1)
        this._quorum = new Quorum(record.redundancy, record.maxReplicas, this.held);
    }
  }

  /** The durable record (read-only: the job's own methods change it). */
  get record(): Readonly<JobRecord> {
    return this._record;
  }

  get code(): JobCode | undefined {
    return this._code;
  }

  get queue(): TaskQueue | undefined {
    return this._queue;
  }

  /** Replica bookkeeping when the job runs with `redundancy` > 1. */
  get quorum(): Quorum | undefined {
    return this._quorum;
  }

  /** Suspects by index (see {@link suspect}). */
  get suspects(): ReadonlyMap<number, StoredTask> {
    return this._suspects;
  }

  /** The worker draining to run the next suspect (see the dispatch pass). */
  get drainer(): string | undefined {
    return this._drainer;
  }

  /** Cancelled, and its unsettled tasks are still being settled as `cancelled` errors. */
  get cancelling(): boolean {
    return this._cancelling;
  }

  /** The latest durable outcomes, in seq order (seqs `recentFirstSeq` …). */
  get recent(): readonly Outcome[] {
    return this._recent;
  }

  /** Highest seq known durable; streams never read past it. */
  get durableSeq(): number {
    return this._durableSeq;
  }

  /** Next index to assign to a submitted task (ahead of `record.total` while a batch commits). */
  get nextIndex(): number {
    return this._nextIndex;
  }

  // ---- lifecycle (each changes the record; the caller stores it) ----------------------

  /** Assigns indexes to `count` new tasks (the total counts them at once); returns the first. */
  addTasks(count: number, now: number): number {
    const first = this._nextIndex;
    this._nextIndex += count;
    this._record.total = this._nextIndex;
    this._record.modified = now;
    return first;
  }

  /** The database counts `total` tasks (several nodes: batches stored on any of them). */
  noteTotal(total: number): void {
    this._record.total = Math.max(total, this._record.total);
    this._nextIndex = Math.max(total, this._nextIndex);
  }

  /** No more tasks. */
  close(now: number): void {
    this._record.state = 'closed';
    this._record.modified = now;
  }

  /** Cancelled: nothing more runs; its sweep starts at once. `reason`: the server's own (maxFailures). */
  cancel(now: number, reason?: string): void {
    this._record.state = 'cancelled';
    this._record.paused = null;
    this._record.cancelReason = reason ?? null;
    this._record.modified = now;
    this._failureWatch = undefined;
  }

  /** Whether `maxFailures` may still stop the job (its first settled tasks failed alike). */
  get watchingFailures(): boolean {
    return this._failureWatch !== undefined;
  }

  /** Settled outcomes (seq order) for `maxFailures`: the reason to stop the job, when it fires. */
  watchFailures(outcomes: Iterable<WatchedOutcome>): string | undefined {
    const watch = this._failureWatch;
    if (!watch) return undefined;
    const reason = watch.see(outcomes);
    if (!watch.watching) this._failureWatch = undefined;
    return reason;
  }

  /** Its unsettled tasks are being settled as `cancelled`: streams must not end meanwhile. */
  beginCancelSweep(): void {
    this._cancelling = true;
  }

  endCancelSweep(): void {
    this._cancelling = false;
  }

  /** Closed and every task settled (nothing left to dispatch). */
  markDone(): void {
    this._record.state = 'done';
    this._record.paused = null;
  }

  /** Dispatch stops until {@link resume}; `reason` says why and what to do. */
  pause(reason: string, now: number): void {
    this._record.paused = reason;
    this._record.modified = now;
  }

  /** Dispatch starts again; its crash and fault counts start over. */
  resume(now: number): void {
    this._record.paused = null;
    this._record.crashedTasks = 0;
    this.faultReporters.clear();
    this._record.modified = now;
  }

  // ---- settling (the hot path: plain field updates, nothing allocated) -----------------

  /** One more outcome settled; returns its seq (several nodes: 0, the database gives it). */
  countSettled(ok: boolean): number {
    if (this.clustered) return 0;
    if (ok) this._record.finished++;
    else this._record.failed++;
    return ++this._record.lastSeq;
  }

  /** A batch of outcomes settled at `now`, with `computeMs` of reported compute time. */
  noteSettled(computeMs: number, now: number): void {
    this._record.computeMs += computeMs;
    this._record.lastResult = now;
    this._record.modified = now;
  }

  /**
   * Task `index` threw and is granted retry number `retries`: it goes back to the queue after
   * `delayMs` (its backoff), then `events.requeued` runs. {@link retire} cancels what is still waiting.
   */
  retryError(
    task: StoredTask,
    retries: number,
    delayMs: number,
    clock: Pick<Clock, 'setTimeout'>,
    events: { requeued(): void },
  ): void {
    this.tries.countErrorRetry(task.index, retries);
    const timer = clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      this._queue?.requeue(task);
      events.requeued();
    }, delayMs);
    this.retryTimers.add(timer);
  }

  /** A replica's answer was the first to disagree with another on its task. */
  noteDisagreement(): void {
    this._record.disagreements++;
  }

  /** One more task settled lost by crashing its tab; returns how many have. */
  countCrashed(): number {
    return ++this._record.crashedTasks;
  }

  /** `task` was on a tab that dropped: it runs alone next (a suspect stays one when released). */
  suspect(task: StoredTask): void {
    this._suspects.set(task.index, task);
  }

  /** The oldest suspect, taken off the list to run alone; the caller checks there is one. */
  takeSuspect(): StoredTask {
    const [index, task] = this._suspects.entries().next().value!;
    this._suspects.delete(index);
    return task;
  }

  /** `worker` drains (gets nothing more) until it can run the next suspect alone. */
  setDrainer(worker: string | undefined): void {
    this._drainer = worker;
  }

  /** A worker identity reports sandbox tampering; returns the count, or 0 if it had before. */
  addFaultReporter(identity: string): number {
    if (this.faultReporters.has(identity)) return 0;
    this.faultReporters.add(identity);
    return this.faultReporters.size;
  }

  /** The counters and state the database holds (several nodes); outcomes to `lastSeq` durable. */
  applyTally(t: StoredJobTally, paused?: string | null): void {
    const r = this._record;
    if (paused !== undefined) r.paused = paused; // another node's crash policy paused it, say
    r.state = t.state;
    r.total = t.total;
    r.finished = t.finished;
    r.failed = t.failed;
    r.lastSeq = Math.max(t.lastSeq, this._durableSeq);
    r.cancelReason = t.cancelReason;
    if (t.total > this._nextIndex) this._nextIndex = t.total;
    this.markDurable(t.lastSeq);
  }

  /** Outcomes up to `seq` are durable. */
  markDurable(seq: number): void {
    if (seq > this._durableSeq) this._durableSeq = seq;
  }

  /** Drops the in-memory window (late readers use the store). */
  forgetRecent(): void {
    this._recent = [];
  }

  /** Exclusive leases by task index (read-only: the lease table owns them). */
  get leases(): ReadonlyMap<number, Lease> {
    return this.held.exclusive;
  }

  get runnable(): boolean {
    return this._record.state === 'open' || this._record.state === 'closed';
  }

  /** Tasks waiting for a worker (suspects included). */
  get waiting(): number {
    return (this._queue?.size ?? 0) + this._suspects.size;
  }

  /** Whether dispatch may hand out this job's tasks. */
  get dispatchable(): boolean {
    return this._queue !== undefined && this._code !== undefined && !this._record.paused;
  }

  get settled(): number {
    return this._record.finished + this._record.failed;
  }

  /** Closed and every task settled. */
  get complete(): boolean {
    return this._record.state === 'closed' && this.settled === this._record.total;
  }

  /** Nothing will ever be added to this job's outcome streams. */
  get streamsFinished(): boolean {
    const r = this._record;
    // Several nodes: the node sweeping a cancelled job may be another; over once all settled.
    const ended =
      r.state === 'done' ||
      (r.state === 'cancelled' && (!this.clustered || this.settled >= r.total));
    return ended && !this._cancelling && this._durableSeq >= r.lastSeq;
  }

  /**
   * Keeps just-committed outcomes for live streams (commits complete in seq order). A payload
   * that does not parse leaves the window empty: streams then read the store, which reports it.
   */
  remember(stored: StoredOutcome[], settled: Settled[]): void {
    try {
      this._recent = withRecent(this._recent, stored, settled, RECENT_MAX);
    } catch (err) {
      this._recent = [];
      console.error(`tabgrid: outcomes of job ${this._record.id} did not parse back:`, err);
    }
  }

  /** Drops everything that only a runnable job needs (its leases were released first). */
  retire(): void {
    this._code = undefined;
    this._queue = undefined;
    this._quorum = undefined;
    this._suspects.clear();
    this.tries.clear();
    for (const timer of this.retryTimers) timer.cancel();
    this.retryTimers.clear();
    this.feeds.retire();
    this._failureWatch = undefined;
  }

  /**
   * Why no connected worker can run its tasks (its requirements meet no tab), while that is so;
   * null otherwise. Set by the dispatch pass (dispatch-pass.ts), read by {@link info}.
   */
  unservable: string | null = null;

  info(): JobInfo {
    return jobInfo(this._record, this.held.inFlight, this.runnable, this.unservable);
  }
}
